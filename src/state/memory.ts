import { foldLatency, type AttemptEnd, type BalanceQuery, type BalanceSnapshot, type TargetLoad } from './balance-state.js';
import type { BreakerState, VersionedBreaker } from './breaker-state.js';
import { hasRetryRoom, type BudgetCounts, type BudgetWindow, type RetryAllowance } from './retry-budget-window.js';
import { quotaWindow, type Cooldown, type QuotaResult, type StateStore } from './state-store.js';

/**
 * In-process state: the default for a single gateway process. Every method does its
 * read-modify-write synchronously (no await inside), so each is atomic on the event loop.
 */
export class MemoryStateStore implements StateStore {
  /** scope → key → answer, in storing order (the degradation cache). */
  private readonly answers = new Map<string, Map<string, { answer: string; expiresAt: number }>>();
  private readonly cooldowns = new Map<string, Cooldown>();
  private readonly breakers = new Map<string, VersionedBreaker>();
  /** scope → bucket index → counts. */
  private readonly budgets = new Map<string, Map<number, BudgetCounts>>();
  /** target → load; entries are frozen and replaced on every change, so reads hand them out uncopied. */
  private readonly loads = new Map<string, Readonly<TargetLoad>>();
  private readonly cursors = new Map<string, number>();
  /** `scope \0 key` → mapping, in order of last write (so the oldest, first to expire, sit in front). */
  private readonly affinities = new Map<string, { targetId: string; expiresAt: number }>();
  /** quota key → the current window's count (a key whose window ended is reset on its next use). */
  private readonly quotas = new Map<string, { end: number; used: number }>();

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

  async readBalance(query: BalanceQuery): Promise<BalanceSnapshot> {
    const snapshot: BalanceSnapshot = { targets: {}, cursors: {} };
    for (const id of query.targets) snapshot.targets[id] = this.loads.get(id) ?? IDLE;
    for (const key of query.cursors) {
      const turn = this.cursors.get(key) ?? 0;
      this.cursors.set(key, turn + 1);
      snapshot.cursors[key] = turn;
    }
    if (query.affinity) {
      const key = affinityKey(query.affinity.scope, query.affinity.key);
      const mapping = this.affinities.get(key);
      if (mapping && mapping.expiresAt > query.now) snapshot.affinity = { ...mapping };
      else if (mapping) this.affinities.delete(key);
    }
    return snapshot;
  }

  async beginAttempt(targetId: string): Promise<void> {
    const load = this.loads.get(targetId) ?? IDLE;
    this.loads.set(targetId, Object.freeze({ ...load, inFlight: load.inFlight + 1 }));
  }

  async endAttempt(targetId: string, end: AttemptEnd): Promise<void> {
    const load = this.loads.get(targetId) ?? IDLE;
    const next: TargetLoad = { ...load, inFlight: Math.max(0, load.inFlight - 1) };
    if (end.ttftMs !== undefined) next.latency = Object.freeze(foldLatency(load.latency, end.ttftMs, end.alpha, end.now));
    if (end.headroom) next.headroom = deepFreeze(structuredClone(end.headroom));
    this.loads.set(targetId, Object.freeze(next));
  }

  async setAffinity(scope: string, key: string, targetId: string, ttlMs: number, now: number): Promise<void> {
    const k = affinityKey(scope, key);
    this.affinities.delete(k);
    this.affinities.set(k, { targetId, expiresAt: now + ttlMs });
    // Drop expired mappings from the front (oldest writes), a bounded number per write. With one
    // TTL everywhere the front is always the first to expire; mixed TTLs only delay a cleanup.
    let swept = 0;
    for (const [oldKey, mapping] of this.affinities) {
      if (mapping.expiresAt > now || swept++ >= 64) break;
      this.affinities.delete(oldKey);
    }
  }

  async getCachedAnswer(scope: string, key: string, now: number): Promise<string | undefined> {
    const entries = this.answers.get(scope);
    const entry = entries?.get(key);
    if (!entries || !entry) return undefined;
    if (entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return entry.answer;
  }

  async putCachedAnswer(scope: string, key: string, answer: string, expiresAt: number, maxEntries: number): Promise<void> {
    let entries = this.answers.get(scope);
    if (!entries) this.answers.set(scope, (entries = new Map()));
    entries.delete(key); // re-insert: a Map iterates in insertion order, so the oldest store is first
    entries.set(key, { answer, expiresAt });
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
  }

  async consumeQuota(key: string, amount: number, limit: number, windowMs: number, now: number): Promise<QuotaResult> {
    const counter = this.quotaCounter(key, windowMs, now);
    if (counter.used + amount > limit) return { allowed: false, used: counter.used, resetAt: counter.end };
    counter.used += amount;
    return { allowed: true, used: counter.used, resetAt: counter.end };
  }

  async addQuota(key: string, amount: number, windowMs: number, now: number): Promise<void> {
    this.quotaCounter(key, windowMs, now).used += amount;
  }

  async close(): Promise<void> {
    this.quotas.clear();
    this.answers.clear();
    this.cooldowns.clear();
    this.breakers.clear();
    this.budgets.clear();
    this.loads.clear();
    this.cursors.clear();
    this.affinities.clear();
  }

  private quotaCounter(key: string, windowMs: number, now: number): { end: number; used: number } {
    const { end } = quotaWindow(windowMs, now);
    const stored = `${key}\u0000${windowMs}`;
    let counter = this.quotas.get(stored);
    if (!counter || counter.end !== end) {
      counter = { end, used: 0 };
      this.quotas.set(stored, counter);
    }
    return counter;
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

const IDLE: Readonly<TargetLoad> = Object.freeze({ inFlight: 0 });

function affinityKey(scope: string, key: string): string {
  return `${scope}\u0000${key}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
