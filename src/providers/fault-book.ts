import { randomUUID } from 'node:crypto';
import type { Clock } from '../time/clock.js';
import type { FaultRule, FaultSource } from './fault-injection.js';

export type FaultOrigin = 'config' | 'admin';

export interface FaultEntry {
  /** `config-<n>` for the config file's n-th rule; `fault_<uuid>` for one added by the admin API. */
  readonly id: string;
  readonly source: FaultOrigin;
  /** The rule as injected: an admin rule's `duration_ms` is folded into `untilMs`. */
  readonly rule: FaultRule;
  /** When an admin rule was added (undefined for config rules). */
  readonly createdAt: number | undefined;
}

export type RemoveResult = 'removed' | 'config' | 'not_found';

const NONE: readonly FaultRule[] = Object.freeze([]);

/** At most this many admin rules at once: the book is memory, and a drill needs a handful. */
export const MAX_ADMIN_FAULTS = 100;

/**
 * The fault rules in force: the config's (fixed for the process's life) and the admin API's
 * (added and deleted at run time). Targets read their own rules per call through `rulesFor`, an
 * array that is empty for almost every target. An admin rule past its end drops out on the next
 * read (checked against the injected clock; no timers).
 */
export class FaultBook implements FaultSource {
  readonly #entries = new Map<string, FaultEntry>();
  /** Per target, rebuilt on every change (never mutated in place, so a reader's array stays whole). */
  #byTarget = new Map<string, readonly FaultRule[]>();
  /** The earliest end of any admin rule: reads prune only once the clock passes it. */
  #nextExpiry = Number.POSITIVE_INFINITY;

  constructor(
    config: readonly FaultRule[],
    private readonly clock: Clock,
    private readonly newId: () => string = () => `fault_${randomUUID()}`,
  ) {
    config.forEach((rule, i) => this.#entries.set(`config-${i}`, { id: `config-${i}`, source: 'config', rule, createdAt: undefined }));
    this.#rebuild();
  }

  rulesFor(targetId: string): readonly FaultRule[] {
    if (this.#nextExpiry !== Number.POSITIVE_INFINITY && this.clock.now() >= this.#nextExpiry) this.#prune();
    return this.#byTarget.get(targetId) ?? NONE;
  }

  /** Every rule still in the book, config rules first, then admin rules in the order added. */
  list(): FaultEntry[] {
    this.#prune();
    return [...this.#entries.values()];
  }

  /** The number of admin rules in the book. */
  get adminCount(): number {
    this.#prune();
    let n = 0;
    for (const entry of this.#entries.values()) if (entry.source === 'admin') n++;
    return n;
  }

  add(rule: FaultRule): FaultEntry {
    const entry: FaultEntry = { id: this.newId(), source: 'admin', rule, createdAt: this.clock.now() };
    this.#entries.set(entry.id, entry);
    this.#rebuild();
    return entry;
  }

  remove(id: string): RemoveResult {
    this.#prune();
    const entry = this.#entries.get(id);
    if (!entry) return 'not_found';
    if (entry.source === 'config') return 'config';
    this.#entries.delete(id);
    this.#rebuild();
    return 'removed';
  }

  #prune(): void {
    const now = this.clock.now();
    if (now < this.#nextExpiry) return;
    for (const [id, entry] of this.#entries) {
      if (entry.source === 'admin' && entry.rule.untilMs !== undefined && entry.rule.untilMs <= now) this.#entries.delete(id);
    }
    this.#rebuild();
  }

  #rebuild(): void {
    const byTarget = new Map<string, FaultRule[]>();
    let nextExpiry = Number.POSITIVE_INFINITY;
    for (const { rule, source } of this.#entries.values()) {
      const list = byTarget.get(rule.target);
      if (list) list.push(rule);
      else byTarget.set(rule.target, [rule]);
      if (source === 'admin' && rule.untilMs !== undefined) nextExpiry = Math.min(nextExpiry, rule.untilMs);
    }
    this.#byTarget = byTarget;
    this.#nextExpiry = nextExpiry;
  }
}
