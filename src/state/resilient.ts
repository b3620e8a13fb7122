import type { AttemptEnd, BalanceQuery, BalanceSnapshot } from './balance-state.js';
import type { BreakerState, VersionedBreaker } from './breaker-state.js';
import { MemoryStateStore } from './memory.js';
import type { RedisStateStore } from './redis.js';
import type { BudgetCounts, BudgetWindow, RetryAllowance } from './retry-budget-window.js';
import { quotaWindow, type Cooldown, type QuotaResult, type StateHealth, type StateStore } from './state-store.js';

/** What quota counters do while Redis is down: count on this instance alone, or refuse every consume. */
export const ON_REDIS_DOWN = ['local', 'refuse'] as const;
export type OnRedisDown = (typeof ON_REDIS_DOWN)[number];

export interface ResilientOptions {
  /** Default `local`: each instance enforces each limit on its own (the fleet may admit up to N× the limit). */
  onRedisDown?: OnRedisDown;
  /** While degraded by a timeout (the connection still open), how often to ask Redis again (default 250 ms). */
  probeIntervalMs?: number;
  /** Called on every change between ok and degraded (for the log). */
  onChange?: (health: StateHealth) => void;
}

/**
 * Redis state with a local fallback: every operation goes to Redis while it answers; when it
 * cannot (not connected, a connection error, a command timeout), that operation and every later
 * one answer from a local MemoryStateStore at once — no request waits on a dead Redis — and
 * `health()` says `degraded`. It goes back to Redis by itself: on reconnection (ioredis retries
 * with backoff), or, after a timeout on a connection that stayed open, when a background PING
 * answers again.
 *
 * While degraded each instance decides alone: breakers, cooldowns, the retry budget and balancing
 * from what it saw itself; quota counters as `onRedisDown` says. Local state is kept for the
 * process's life (it covers every outage); what was written locally is not copied to Redis.
 */
export class ResilientStateStore implements StateStore {
  private readonly local = new MemoryStateStore();
  private readonly onRedisDown: OnRedisDown;
  private readonly probeIntervalMs: number;
  private readonly onChange: ((health: StateHealth) => void) | undefined;
  /** Set after a failed operation; cleared on reconnection or when a probe gets an answer. */
  private failure: string | undefined;
  private probe: NodeJS.Timeout | undefined;
  /** The state last told to `onChange`; undefined until the first connection (or `ready` gave up). */
  private reported: boolean | undefined;
  private closed = false;

  constructor(
    private readonly remote: RedisStateStore,
    options: ResilientOptions = {},
  ) {
    this.onRedisDown = options.onRedisDown ?? 'local';
    this.probeIntervalMs = options.probeIntervalMs ?? 250;
    this.onChange = options.onChange;
    remote.client.on('ready', () => {
      this.failure = undefined;
      this.stopProbe();
      this.changed();
    });
    remote.client.on('close', () => this.changed());
  }

  /**
   * Waits (at most `timeoutMs`) for the first connection, so a starting instance begins on shared
   * state; false (and `onChange` told) when Redis did not answer in time.
   */
  async ready(timeoutMs: number): Promise<boolean> {
    const connected = await this.remote.ready(timeoutMs);
    if (!connected && this.reported === undefined && !this.closed) {
      this.reported = false;
      this.onChange?.(this.health());
    }
    return connected;
  }

  health(): StateHealth {
    if (this.up) return { backend: 'redis', status: 'ok' };
    const why = this.failure ?? this.remote.health().detail ?? 'redis unavailable';
    const quotas = this.onRedisDown === 'local' ? 'quotas counted per instance' : 'quota consumes refused';
    return { backend: 'redis', status: 'degraded', detail: `${why}; serving from local state (${quotas})` };
  }

  getCooldown(targetId: string, now: number): Promise<Cooldown | undefined> {
    return this.run((s) => s.getCooldown(targetId, now));
  }

  setCooldown(targetId: string, cooldown: Cooldown): Promise<void> {
    return this.run((s) => s.setCooldown(targetId, cooldown));
  }

  getBreaker(targetId: string): Promise<VersionedBreaker | undefined> {
    return this.run((s) => s.getBreaker(targetId));
  }

  /** A compare-and-set against a version read from the other side fails, and the caller reads again. */
  compareAndSetBreaker(targetId: string, expectedVersion: number, next: BreakerState): Promise<boolean> {
    return this.run((s) => s.compareAndSetBreaker(targetId, expectedVersion, next));
  }

  addFirstAttempt(scopes: readonly string[], window: BudgetWindow): Promise<void> {
    return this.run((s) => s.addFirstAttempt(scopes, window));
  }

  tryTakeRetry(scopes: readonly string[], window: BudgetWindow, allowance: RetryAllowance): Promise<boolean> {
    return this.run((s) => s.tryTakeRetry(scopes, window, allowance));
  }

  readRetryBudget(scope: string, window: BudgetWindow): Promise<BudgetCounts> {
    return this.run((s) => s.readRetryBudget(scope, window));
  }

  readBalance(query: BalanceQuery): Promise<BalanceSnapshot> {
    return this.run((s) => s.readBalance(query));
  }

  /** While degraded, Redis's store still counts the attempt, so its next lease refresh writes the true count. */
  beginAttempt(targetId: string): Promise<void> {
    if (this.up) return this.run((s) => s.beginAttempt(targetId));
    this.remote.trackInFlight(targetId, +1);
    return this.local.beginAttempt(targetId);
  }

  endAttempt(targetId: string, end: AttemptEnd): Promise<void> {
    if (this.up) return this.run((s) => s.endAttempt(targetId, end));
    this.remote.trackInFlight(targetId, -1);
    return this.local.endAttempt(targetId, end);
  }

  setAffinity(scope: string, key: string, targetId: string, ttlMs: number, now: number): Promise<void> {
    return this.run((s) => s.setAffinity(scope, key, targetId, ttlMs, now));
  }

  getCachedAnswer(scope: string, key: string, now: number): Promise<string | undefined> {
    return this.run((s) => s.getCachedAnswer(scope, key, now));
  }

  putCachedAnswer(scope: string, key: string, answer: string, expiresAt: number, maxEntries: number): Promise<void> {
    return this.run((s) => s.putCachedAnswer(scope, key, answer, expiresAt, maxEntries));
  }

  consumeQuota(key: string, amount: number, limit: number, windowMs: number, now: number): Promise<QuotaResult> {
    return this.run(
      (s) => s.consumeQuota(key, amount, limit, windowMs, now),
      async () => {
        if (this.onRedisDown === 'local') return this.local.consumeQuota(key, amount, limit, windowMs, now);
        const { used } = await this.local.consumeQuota(key, 0, Number.POSITIVE_INFINITY, windowMs, now);
        return { allowed: false, used, resetAt: quotaWindow(windowMs, now).end };
      },
    );
  }

  addQuota(key: string, amount: number, windowMs: number, now: number): Promise<void> {
    return this.run((s) => s.addQuota(key, amount, windowMs, now));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopProbe();
    await Promise.all([this.remote.close(), this.local.close()]);
  }

  private get up(): boolean {
    return this.failure === undefined && this.remote.connected;
  }

  /** Runs `op` on Redis while it is up, else (or when it fails) on local state (`fallback` when given). */
  private async run<T>(op: (store: StateStore) => Promise<T>, fallback: () => Promise<T> = () => op(this.local)): Promise<T> {
    if (!this.up) return fallback();
    try {
      return await op(this.remote);
    } catch (error) {
      this.failed(error);
      return fallback();
    }
  }

  private failed(error: unknown): void {
    if (this.closed) return;
    this.failure = `redis: ${error instanceof Error ? error.message : String(error)}`;
    this.changed();
    // Still connected (a timeout, or an error reply): ask again in the background until it answers.
    if (!this.probe && this.remote.connected) {
      this.probe = setInterval(() => void this.probeOnce(), this.probeIntervalMs);
      this.probe.unref();
    }
  }

  private async probeOnce(): Promise<void> {
    if (!this.remote.connected) return; // the 'ready' event will bring it back
    try {
      await this.remote.ping();
    } catch {
      return;
    }
    this.failure = undefined;
    this.stopProbe();
    this.changed();
  }

  private stopProbe(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = undefined;
  }

  /** Tells `onChange` when the store moved between ok and degraded (the first connection is not news). */
  private changed(): void {
    const up = this.up;
    if (this.closed || up === this.reported || (this.reported === undefined && !up)) return;
    const first = this.reported === undefined;
    this.reported = up;
    if (!first) this.onChange?.(this.health());
  }
}
