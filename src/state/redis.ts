import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { AttemptEnd, BalanceQuery, BalanceSnapshot, Headroom, TargetLoad } from './balance-state.js';
import type { BreakerState, VersionedBreaker } from './breaker-state.js';
import { RedisKeys } from './redis-keys.js';
import {
  ADD_FIRST_ATTEMPT,
  CAS_BREAKER,
  CONSUME_QUOTA,
  END_ATTEMPT,
  LuaScript,
  PUT_ANSWER,
  READ_BALANCE,
  SET_COOLDOWN,
  SET_IN_FLIGHT,
  TRY_TAKE_RETRY,
} from './redis-scripts.js';
import type { BudgetCounts, BudgetWindow, RetryAllowance } from './retry-budget-window.js';
import { quotaWindow, type Cooldown, type QuotaResult, type StateHealth, type StateStore } from './state-store.js';

export interface RedisStateStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (default `redis://127.0.0.1:6379`). */
  url?: string;
  /** Put in front of every key (default `understudy:`); instances share state when they share it. */
  prefix?: string;
  /** A command without a reply by then fails (default 150 ms): a hung Redis never holds a request long. */
  commandTimeoutMs?: number;
  /** Longest wait between reconnection attempts (default 1000 ms; they start at 50 ms). */
  maxReconnectDelayMs?: number;
  /** The connection's name in `CLIENT LIST` (default `understudy:<instance>`). */
  connectionName?: string;
  /** This instance's id in the in-flight counts (default a random UUID). */
  instanceId?: string;
  /** How long this instance's in-flight counts live without a refresh (default 30 s; refreshed every third of it). */
  leaseMs?: number;
  /** TTL of a retry-budget scope after its last write (default 2 min; must exceed the budget's window). */
  budgetTtlMs?: number;
  /** TTL of breakers, load signals and cursors after their last write (default 24 h). */
  idleTtlMs?: number;
}

const DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  prefix: 'understudy:',
  commandTimeoutMs: 150,
  maxReconnectDelayMs: 1_000,
  leaseMs: 30_000,
  budgetTtlMs: 120_000,
  idleTtlMs: 24 * 60 * 60_000,
};

/** Kept past its end by Redis's clock (cooldowns, answers, quota windows), for callers whose clock runs behind. */
const GRACE_MS = 60_000;

const script = {
  setCooldown: new LuaScript(SET_COOLDOWN),
  casBreaker: new LuaScript(CAS_BREAKER),
  addFirstAttempt: new LuaScript(ADD_FIRST_ATTEMPT),
  tryTakeRetry: new LuaScript(TRY_TAKE_RETRY),
  setInFlight: new LuaScript(SET_IN_FLIGHT),
  endAttempt: new LuaScript(END_ATTEMPT),
  readBalance: new LuaScript(READ_BALANCE),
  putAnswer: new LuaScript(PUT_ANSWER),
  consumeQuota: new LuaScript(CONSUME_QUOTA),
};

/**
 * State in Redis, shared by every instance using the same prefix. Each operation is one command
 * or one Lua script (atomic in Redis); every time-bounded key has a TTL, so nothing grows
 * forever (key layout: `redis-keys.ts`). It fails fast when Redis is unreachable (no offline
 * queue, a short command timeout) and reconnects by itself; `ResilientStateStore` wraps it to
 * answer from local state meanwhile.
 *
 * In-flight counts are per instance: this store counts its own attempts (`trackInFlight`) and
 * writes the absolute count with a lease, refreshed every third of the lease while any is in
 * flight, so the attempts of an instance that died stop counting when its lease runs out.
 */
export class RedisStateStore implements StateStore {
  readonly client: Redis;
  readonly instanceId: string;
  private readonly keys: RedisKeys;
  private readonly settings: typeof DEFAULTS;
  /** This instance's attempts in flight, by target (entries at 0 are dropped once written). */
  private readonly inFlight = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  private lastError: string | undefined;
  private closed = false;

  constructor(options: RedisStateStoreOptions = {}) {
    this.settings = { ...DEFAULTS, ...definedOnly(options) };
    this.instanceId = options.instanceId ?? randomUUID();
    this.keys = new RedisKeys(this.settings.prefix);
    const maxDelay = this.settings.maxReconnectDelayMs;
    this.client = new Redis(this.settings.url, {
      connectionName: options.connectionName ?? `understudy:${this.instanceId}`,
      commandTimeout: this.settings.commandTimeoutMs,
      // A socket with replies overdue this long is dead (a half-open connection): reconnect.
      socketTimeout: Math.max(1_000, this.settings.commandTimeoutMs * 10),
      connectTimeout: Math.max(1_000, this.settings.commandTimeoutMs * 10),
      // Fail at once while disconnected rather than queue: the caller has a local fallback.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(50 * times, maxDelay),
    });
    this.client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    this.heartbeat = setInterval(() => void this.refreshLeases().catch(() => undefined), Math.max(10, Math.floor(this.settings.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** Whether commands can be sent now. */
  get connected(): boolean {
    return !this.closed && this.client.status === 'ready';
  }

  /** Resolves true once connected, false if `timeoutMs` passes first (or the store closes). */
  async ready(timeoutMs = 2_000): Promise<boolean> {
    if (this.connected) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        this.client.off('end', onEnd);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const onEnd = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.on('ready', onReady);
      this.client.on('end', onEnd);
    });
  }

  /** One round trip (under the command timeout): resolves when Redis answers. */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  health(): StateHealth {
    if (this.connected) return { backend: 'redis', status: 'ok' };
    const status = this.closed ? 'closed' : this.client.status;
    return { backend: 'redis', status: 'degraded', detail: `redis ${status}${this.lastError ? `: ${this.lastError}` : ''}` };
  }

  async getCooldown(targetId: string, now: number): Promise<Cooldown | undefined> {
    const [untilMs, reason] = await this.client.hmget(this.keys.cooldown(targetId), 'u', 'r');
    if (untilMs == null || reason == null || Number(untilMs) <= now) return undefined;
    return { untilMs: Number(untilMs), reason: reason as Cooldown['reason'] };
  }

  async setCooldown(targetId: string, cooldown: Cooldown): Promise<void> {
    await script.setCooldown.run(this.client, [this.keys.cooldown(targetId)], [cooldown.untilMs, cooldown.reason, GRACE_MS]);
  }

  async getBreaker(targetId: string): Promise<VersionedBreaker | undefined> {
    const [version, state] = await this.client.hmget(this.keys.breaker(targetId), 'v', 's');
    if (version == null || state == null) return undefined;
    return { version: Number(version), state: JSON.parse(state) as BreakerState };
  }

  async compareAndSetBreaker(targetId: string, expectedVersion: number, next: BreakerState): Promise<boolean> {
    const written = await script.casBreaker.run(this.client, [this.keys.breaker(targetId)], [expectedVersion, JSON.stringify(next), this.settings.idleTtlMs]);
    return written === 1;
  }

  async addFirstAttempt(scopes: readonly string[], window: BudgetWindow): Promise<void> {
    if (scopes.length === 0) return;
    await script.addFirstAttempt.run(this.client, scopes.map((s) => this.keys.budget(s)), [window.bucket, window.buckets, this.settings.budgetTtlMs]);
  }

  async tryTakeRetry(scopes: readonly string[], window: BudgetWindow, allowance: RetryAllowance): Promise<boolean> {
    const args = [window.bucket, window.buckets, this.settings.budgetTtlMs, allowance.ratio, allowance.floor];
    return (await script.tryTakeRetry.run(this.client, scopes.map((s) => this.keys.budget(s)), args)) === 1;
  }

  async readRetryBudget(scope: string, window: BudgetWindow): Promise<BudgetCounts> {
    const fields = await this.client.hgetall(this.keys.budget(scope));
    const counts: BudgetCounts = { firsts: 0, retries: 0 };
    for (const [field, value] of Object.entries(fields)) {
      const index = Number(field.slice(2));
      if (!(index > window.bucket - window.buckets && index <= window.bucket)) continue;
      if (field.startsWith('f:')) counts.firsts += Number(value);
      else if (field.startsWith('r:')) counts.retries += Number(value);
    }
    return counts;
  }

  async readBalance(query: BalanceQuery): Promise<BalanceSnapshot> {
    if (query.targets.length === 0 && query.cursors.length === 0 && !query.affinity) return { targets: {}, cursors: {} };
    const keys = [...query.targets.map((t) => this.keys.load(t)), ...query.cursors.map((c) => this.keys.cursor(c))];
    if (query.affinity) keys.push(this.keys.affinity(query.affinity.scope, query.affinity.key));
    const reply = await script.readBalance.run(this.client, keys, [query.targets.length, query.cursors.length, this.settings.idleTtlMs]);
    const values = stringsOf(reply);
    const snapshot: BalanceSnapshot = { targets: {}, cursors: {} };
    query.targets.forEach((targetId, i) => {
      const [inFlight, ms, samples, at, headroom] = values.slice(i * 5, i * 5 + 5);
      const load: TargetLoad = { inFlight: Number(inFlight ?? 0) };
      if (ms && samples && at) load.latency = { ms: Number(ms), samples: Number(samples), at: Number(at) };
      if (headroom) load.headroom = JSON.parse(headroom) as Headroom;
      snapshot.targets[targetId] = load;
    });
    const cursorsAt = query.targets.length * 5;
    query.cursors.forEach((cursor, i) => {
      snapshot.cursors[cursor] = Number(values[cursorsAt + i] ?? 0);
    });
    const mapping = query.affinity ? values[cursorsAt + query.cursors.length] : undefined;
    if (mapping) {
      const parsed = JSON.parse(mapping) as { targetId: string; expiresAt: number };
      if (parsed.expiresAt > query.now) snapshot.affinity = { targetId: parsed.targetId, expiresAt: parsed.expiresAt };
    }
    return snapshot;
  }

  async beginAttempt(targetId: string): Promise<void> {
    const count = this.trackInFlight(targetId, +1);
    await script.setInFlight.run(this.client, [this.keys.load(targetId)], [this.instanceId, this.settings.leaseMs, this.settings.idleTtlMs, count]);
  }

  async endAttempt(targetId: string, end: AttemptEnd): Promise<void> {
    const count = this.trackInFlight(targetId, -1);
    const args = [
      this.instanceId,
      this.settings.leaseMs,
      this.settings.idleTtlMs,
      count,
      end.ttftMs ?? '',
      end.alpha,
      end.now,
      end.headroom ? JSON.stringify(end.headroom) : '',
    ];
    await script.endAttempt.run(this.client, [this.keys.load(targetId)], args);
  }

  /**
   * Counts one of this instance's attempts in (+1) or out (-1) without writing, and returns the
   * count (never below 0). The next write or lease refresh carries it to Redis; the resilient
   * wrapper calls this alone while Redis is down, so the count is right when it comes back.
   */
  trackInFlight(targetId: string, delta: 1 | -1): number {
    const count = Math.max(0, (this.inFlight.get(targetId) ?? 0) + delta);
    this.inFlight.set(targetId, count);
    return count;
  }

  async setAffinity(scope: string, key: string, targetId: string, ttlMs: number, now: number): Promise<void> {
    await this.client.set(this.keys.affinity(scope, key), JSON.stringify({ targetId, expiresAt: now + ttlMs }), 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async getCachedAnswer(scope: string, key: string, now: number): Promise<string | undefined> {
    const stored = await this.client.hget(this.keys.cache(scope), key);
    if (stored === null) return undefined;
    const bar = stored.indexOf('|');
    return Number(stored.slice(0, bar)) > now ? stored.slice(bar + 1) : undefined;
  }

  async putCachedAnswer(scope: string, key: string, answer: string, expiresAt: number, maxEntries: number): Promise<void> {
    await script.putAnswer.run(this.client, [this.keys.cache(scope), this.keys.cacheOrder(scope)], [key, answer, expiresAt, maxEntries, GRACE_MS]);
  }

  async consumeQuota(key: string, amount: number, limit: number, windowMs: number, now: number): Promise<QuotaResult> {
    return this.quota(key, amount, limit, windowMs, now);
  }

  async addQuota(key: string, amount: number, windowMs: number, now: number): Promise<void> {
    await this.quota(key, amount, Number.POSITIVE_INFINITY, windowMs, now);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  private async quota(key: string, amount: number, limit: number, windowMs: number, now: number): Promise<QuotaResult> {
    const { start, end } = quotaWindow(windowMs, now);
    const unlimited = limit === Number.POSITIVE_INFINITY ? '1' : '0';
    const args = [amount, unlimited === '1' ? 0 : limit, unlimited, Math.ceil(end - now) + GRACE_MS];
    const [allowed, used] = stringsOf(await script.consumeQuota.run(this.client, [this.keys.quota(key, windowMs, start)], args));
    return { allowed: allowed === '1', used: Number(used ?? 0), resetAt: end };
  }

  /** Rewrites this instance's in-flight counts with a fresh lease; drops the targets now at 0. */
  private async refreshLeases(): Promise<void> {
    if (!this.connected || this.inFlight.size === 0) return;
    const targets = [...this.inFlight.keys()];
    const counts = targets.map((t) => this.inFlight.get(t) ?? 0);
    await script.setInFlight.run(this.client, targets.map((t) => this.keys.load(t)), [this.instanceId, this.settings.leaseMs, this.settings.idleTtlMs, ...counts]);
    targets.forEach((t, i) => {
      if (counts[i] === 0 && this.inFlight.get(t) === 0) this.inFlight.delete(t);
    });
  }
}

/** A script's array reply as strings (Redis integers arrive as numbers). */
function stringsOf(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new TypeError(`expected an array reply from Redis, got ${typeof reply}`);
  return reply.map((item: unknown) => (item === null ? '' : String(item)));
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
