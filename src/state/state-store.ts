import type { FailureKind } from '../canonical/failure.js';
import type { AttemptEnd, BalanceQuery, BalanceSnapshot } from './balance-state.js';
import type { BreakerState, VersionedBreaker } from './breaker-state.js';
import type { BudgetCounts, BudgetWindow, RetryAllowance } from './retry-budget-window.js';

/** A target that must not be called until `untilMs` (epoch ms), and why. */
export interface Cooldown {
  untilMs: number;
  reason: FailureKind;
}

/**
 * Live state shared by every request (and, with a shared backend, every instance).
 * Asynchronous from day one so a Redis backend can implement it unchanged.
 *
 * Every operation is atomic on its own; none takes a callback, because a callback cannot run
 * inside Redis. Where a read-modify-write is needed the caller reads, computes and writes back
 * with a compare-and-set on a version (breakers), or the store applies one fixed rule itself
 * (the retry budget's `retryAllowance`). Every implementation runs the same cases:
 * `describeStateStoreContract` in `state-store.contract.ts`.
 */
export interface StateStore {
  /** The cooldown in force for a target at `now`, if any. */
  getCooldown(targetId: string, now: number): Promise<Cooldown | undefined>;
  /** Cools a target; an existing longer cooldown is kept. */
  setCooldown(targetId: string, cooldown: Cooldown): Promise<void>;

  /**
   * A target's breaker state and its version, or undefined when none was ever written (a
   * closed breaker with nothing counted). The result is a copy: changing it changes nothing.
   */
  getBreaker(targetId: string): Promise<VersionedBreaker | undefined>;
  /**
   * Writes `next` only if the stored version is still `expectedVersion` (0: nothing stored yet),
   * and then bumps the version by one; true when written. Redis: one Lua script over the
   * target's hash (`if HGET v == ARGV[1] then HSET v v+1, s ARGV[2]`), or WATCH/MULTI.
   */
  compareAndSetBreaker(targetId: string, expectedVersion: number, next: BreakerState): Promise<boolean>;

  /** Counts one first attempt in bucket `window.bucket` of every scope in `scopes`. */
  addFirstAttempt(scopes: readonly string[], window: BudgetWindow): Promise<void>;
  /**
   * Atomically, across all `scopes`: when every scope has room for one more retry over `window`
   * (`hasRetryRoom` with `allowance`), counts one retry in bucket `window.bucket` of each and
   * returns true; otherwise changes nothing and returns false. Redis: one Lua script over the
   * scopes' keys (on a Redis Cluster they would need hash-tagging into one slot).
   */
  tryTakeRetry(scopes: readonly string[], window: BudgetWindow, allowance: RetryAllowance): Promise<boolean>;
  /** One scope's first attempts and retries over `window`. */
  readRetryBudget(scope: string, window: BudgetWindow): Promise<BudgetCounts>;

  /**
   * Load balancing and session affinity (balance-state.ts): one read per request. Reads the load
   * of `query.targets` and the session's sticky target (expired mappings are absent), and takes
   * one turn of each cursor in `query.cursors` (atomically: concurrent takes get distinct turns).
   * Redis: one pipeline or Lua script (HGETALL per target, INCR per cursor, GET of the session).
   */
  readBalance(query: BalanceQuery): Promise<BalanceSnapshot>;
  /** Counts one more attempt in flight at a target. Redis: per-instance counts with a lease, so a dead instance's attempts expire. */
  beginAttempt(targetId: string): Promise<void>;
  /**
   * Ends one attempt at a target: one fewer in flight (never below 0), `ttftMs` folded into the
   * latency EWMA with `foldLatency`, the headroom replaced when given. One atomic write.
   */
  endAttempt(targetId: string, end: AttemptEnd): Promise<void>;
  /** Maps (`scope`, `key`) to `targetId` until `now + ttlMs`, replacing any mapping. Redis: SET PX. */
  setAffinity(scope: string, key: string, targetId: string, ttlMs: number, now: number): Promise<void>;

  /** The stored answer for `key` in `scope` if it has not expired at `now`. Redis: GET (keys with PX). */
  getCachedAnswer(scope: string, key: string, now: number): Promise<string | undefined>;
  /** Stores an answer until `expiresAt`, keeping at most `maxEntries` per scope (least recently stored go first). */
  putCachedAnswer(scope: string, key: string, answer: string, expiresAt: number, maxEntries: number): Promise<void>;

  /**
   * Quota counters (per-key rate limits, later spend budgets): fixed windows of `windowMs` aligned
   * to the epoch, one counter per (`key`, window). Atomically: when the current window's count plus
   * `amount` is at most `limit`, adds `amount` and allows; otherwise changes nothing and refuses.
   * `limit: Infinity` always allows (a pure add). Redis: one Lua script (INCRBY under a check,
   * PEXPIREAT at the window's end).
   */
  consumeQuota(key: string, amount: number, limit: number, windowMs: number, now: number): Promise<QuotaResult>;
  /** Adds `amount` to the current window's count without a check (e.g. output tokens known only after the answer). */
  addQuota(key: string, amount: number, windowMs: number, now: number): Promise<void>;

  /**
   * Readiness of the backend, for `/health/ready`. Optional: a store without it (the memory store)
   * is always ready. `degraded`: a shared backend is unreachable and this instance runs on local
   * state meanwhile (see docs/scaling.md).
   */
  health?(): StateHealth;

  close(): Promise<void>;
}

/** What `StateStore.health` reports. */
export interface StateHealth {
  backend: 'redis' | 'memory';
  status: 'ok' | 'degraded';
  /** Why it is degraded, for operators (never a secret: no URL). */
  detail?: string;
}

/** What `consumeQuota` did, and where the window stands. */
export interface QuotaResult {
  allowed: boolean;
  /** The window's count after the call (unchanged when refused). */
  used: number;
  /** When the window ends (epoch ms): the earliest a refused request could succeed. */
  resetAt: number;
}

/** The fixed window `now` falls in: its start and end (epoch ms). */
export function quotaWindow(windowMs: number, now: number): { start: number; end: number } {
  const start = Math.floor(now / windowMs) * windowMs;
  return { start, end: start + windowMs };
}
