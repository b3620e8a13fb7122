import type { FailureKind } from '../canonical/failure.js';

/** A target that must not be called until `untilMs` (epoch ms), and why. */
export interface Cooldown {
  untilMs: number;
  reason: FailureKind;
}

/**
 * Live state shared by every request (and, with a shared backend, every instance).
 * Asynchronous from day one so a Redis backend can implement it unchanged.
 */
export interface StateStore {
  /** The cooldown in force for a target at `now`, if any. */
  getCooldown(targetId: string, now: number): Promise<Cooldown | undefined>;
  /** Cools a target; an existing longer cooldown is kept. */
  setCooldown(targetId: string, cooldown: Cooldown): Promise<void>;
  close(): Promise<void>;
}
