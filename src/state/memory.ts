import type { BreakerState, VersionedBreaker } from './breaker-state.js';
import { hasRetryRoom, type BudgetCounts, type BudgetWindow, type RetryAllowance } from './retry-budget-window.js';
import type { Cooldown, StateStore } from './state-store.js';

/**
 * In-process state: the default for a single gateway process. Every method does its
 * read-modify-write synchronously (no await inside), so each is atomic on the event loop.
 */
export class MemoryStateStore implements StateStore {
  private readonly cooldowns = new Map<string, Cooldown>();
  private readonly breakers = new Map<string, VersionedBreaker>();
  /** scope → bucket index → counts. */
  private readonly budgets = new Map<string, Map<number, BudgetCounts>>();

  async getCooldown(targetId: string, now: number): Promise<Cooldown | undefined> {
    const cooldown = this.cooldowns.get(targetId);
    if (!cooldown) return undefined;
    if (cooldown.untilMs <= now) {
      this.cooldowns.delete(targetId);
      return undefined;
    }
    return cooldown;
  }

  async setCooldown(targetId: string, cooldown: Cooldown): Promise<void> {
    const existing = this.cooldowns.get(targetId);
    if (existing && existing.untilMs >= cooldown.untilMs) return;
    this.cooldowns.set(targetId, cooldown);
  }

  /** Stored states are deep-frozen copies, so handing them out needs no copy (reads are the hot path). */
  async getBreaker(targetId: string): Promise<VersionedBreaker | undefined> {
    return this.breakers.get(targetId);
  }

  async compareAndSetBreaker(targetId: string, expectedVersion: number, next: BreakerState): Promise<boolean> {
    const version = this.breakers.get(targetId)?.version ?? 0;
    if (version !== expectedVersion) return false;
    this.breakers.set(targetId, deepFreeze({ version: version + 1, state: structuredClone(next) }));
    return true;
  }

  async addFirstAttempt(scopes: readonly string[], window: BudgetWindow): Promise<void> {
    for (const scope of scopes) this.bucket(scope, window).firsts++;
  }

  async tryTakeRetry(scopes: readonly string[], window: BudgetWindow, allowance: RetryAllowance): Promise<boolean> {
    for (const scope of scopes) {
      if (!hasRetryRoom(this.count(scope, window), allowance)) return false;
    }
    for (const scope of scopes) this.bucket(scope, window).retries++;
    return true;
  }

  async readRetryBudget(scope: string, window: BudgetWindow): Promise<BudgetCounts> {
    return this.count(scope, window);
  }

  async close(): Promise<void> {
    this.cooldowns.clear();
    this.breakers.clear();
    this.budgets.clear();
  }

  private count(scope: string, window: BudgetWindow): BudgetCounts {
    const total: BudgetCounts = { firsts: 0, retries: 0 };
    for (const [index, counts] of this.budgets.get(scope) ?? []) {
      if (index > window.bucket - window.buckets && index <= window.bucket) {
        total.firsts += counts.firsts;
        total.retries += counts.retries;
      }
    }
    return total;
  }

  /** The counts of the window's current bucket, created if needed; buckets that left the window are dropped. */
  private bucket(scope: string, window: BudgetWindow): BudgetCounts {
    let buckets = this.budgets.get(scope);
    if (!buckets) {
      buckets = new Map();
      this.budgets.set(scope, buckets);
    }
    for (const index of buckets.keys()) {
      if (index <= window.bucket - window.buckets) buckets.delete(index);
    }
    let counts = buckets.get(window.bucket);
    if (!counts) {
      counts = { firsts: 0, retries: 0 };
      buckets.set(window.bucket, counts);
    }
    return counts;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
