/**
 * Active health probes for open circuits — off unless `breaker.probes` is configured, because
 * every probe is a paid model call.
 *
 * Every `intervalMs` on the injected clock, the prober reads the breaker of each chat target of
 * the routes and sends one minimal non-streaming request (one user message, `maxTokens` tokens)
 * to each target whose circuit is open, through the same Target object the engine calls (request
 * overrides and injected faults apply), bounded by `timeoutMs`. Healthy targets are never probed.
 *
 * - An answer (any complete answer, even an empty one) ends the open period early: the breaker
 *   goes half-open (`healthProbeSucceededStep`) and real requests confirm the recovery with the
 *   breaker's usual probes and `successThreshold`.
 * - A failure changes nothing: the circuit stays open until its `reopensAt`, as without probes
 *   (it is neither extended nor counted).
 * - Not probed: a circuit past its `reopensAt` (the next request probes it anyway) and one opened
 *   by a rate limit or exhausted quota (the provider said how long to wait; `probesOpenedBy`).
 * - At most one probe per target at a time: a target whose last probe is still running is
 *   skipped on this tick.
 * - A probe is not a client request: no request record, no retry budget, no load counters. One
 *   log line each: info when it answered, warn when it failed (target, outcome, latency; never
 *   a key or the answer).
 */
import type { ChatRequest } from '../canonical/chat.js';
import { isUpstreamFailure, UpstreamFailure, type FailureKind } from '../canonical/failure.js';
import type { Target } from '../providers/target.js';
import type { OpenBreaker, BreakerState } from '../state/breaker-state.js';
import type { Logger } from '../telemetry/logger.js';
import type { Clock } from '../time/clock.js';
import type { CircuitBreakers } from './breakers.js';
import type { Route } from './route.js';

export interface HealthProbeConfig {
  /** Time between probe rounds. */
  intervalMs: number;
  /** A probe without a complete answer by then has failed (and is aborted). */
  timeoutMs: number;
  /** The one user message a probe sends. */
  prompt: string;
  /** `max_tokens` of a probe: keep it tiny, probes cost money. */
  maxTokens: number;
}

export const DEFAULT_HEALTH_PROBE_CONFIG: Readonly<HealthProbeConfig> = Object.freeze({
  intervalMs: 30_000,
  timeoutMs: 10_000,
  prompt: 'ping',
  maxTokens: 1,
});

/** Defaults with `overrides` applied, checked; throws a RangeError naming the first bad key. */
export function healthProbeConfig(overrides: Partial<HealthProbeConfig> = {}): HealthProbeConfig {
  const config = { ...DEFAULT_HEALTH_PROBE_CONFIG, ...overrides };
  for (const key of ['intervalMs', 'timeoutMs', 'maxTokens'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new RangeError(`breaker.probes.${key} must be a positive integer, got ${config[key]}`);
  }
  if (config.prompt.length === 0) throw new RangeError('breaker.probes.prompt must not be empty');
  return config;
}

/**
 * Whether a circuit opened by a failure of this kind is worth a paid probe. Not after a rate
 * limit or an exhausted quota: the provider named the wait (or the bill), and a probe would only
 * spend against it. Kinds that never open a circuit (`feedsBreaker` ignores them) say no.
 */
export function probesOpenedBy(kind: FailureKind): boolean {
  switch (kind) {
    case 'overloaded':
    case 'server_error':
    case 'connection':
    case 'timeout_headers':
    case 'timeout_first_token':
    case 'stream_stalled':
    case 'stream_cut':
    case 'malformed_response':
    case 'empty_output':
    case 'upstream_auth': // a fixed key or restored account shows at once; a 401 costs nothing
    case 'model_not_found':
      return true;
    case 'rate_limited':
    case 'quota_exhausted':
    case 'contract_violation':
    case 'context_window':
    case 'content_policy':
    case 'unsupported_parameter':
    case 'invalid_request':
    case 'budget_exceeded':
    case 'deadline_exceeded':
    case 'client_cancelled':
      return false;
    default:
      return assertNever(kind);
  }
}

/** Whether a breaker in `state` at `now` should be probed: open, inside its open period, not opened by a rate limit. */
export function wantsHealthProbe(state: BreakerState, now: number): state is OpenBreaker {
  return state.phase === 'open' && now < state.reopensAt && probesOpenedBy(state.kind);
}

/** The request a probe sends: one user message, a few tokens, no stream. */
export function probeRequest(target: Target, config: HealthProbeConfig): ChatRequest {
  return { model: target.model, messages: [{ role: 'user', content: config.prompt }], max_tokens: config.maxTokens, stream: false };
}

/** The chat targets of `routes` (live rungs), each once. */
export function routeTargets(routes: Iterable<Route>): Target[] {
  const byId = new Map<string, Target>();
  for (const route of routes) {
    for (const rung of route.ladder) {
      if (rung.type !== 'targets') continue;
      for (const target of rung.targets) if (!byId.has(target.id)) byId.set(target.id, target);
    }
  }
  return [...byId.values()];
}

/** How one probe ended. `failure`: the FailureKind, `timeout` (ours), or `error` (not classified). */
export type ProbeResult = { ok: true; latencyMs: number } | { ok: false; latencyMs: number; failure: FailureKind | 'timeout' | 'error'; status?: number; code?: string };

export interface HealthProberOptions {
  targets: readonly Target[];
  breakers: CircuitBreakers;
  clock: Clock;
  logger: Pick<Logger, 'info' | 'warn'>;
  config: HealthProbeConfig;
}

/** Runs the probe rounds between `start()` and `stop()` (`tick()` runs one round by hand). */
export class HealthProber {
  private cancelTimer: (() => void) | undefined;
  private stopped = false;
  private ticking = false;
  /** Probes in flight, by target id, with the controller that aborts each. */
  private readonly inFlight = new Map<string, { done: Promise<void>; controller: AbortController }>();

  constructor(private readonly options: HealthProberOptions) {}

  /** Starts the rounds: the first one `intervalMs` from now. */
  start(): void {
    if (this.cancelTimer || this.stopped) return;
    this.schedule();
  }

  /** Stops the rounds, aborts probes in flight and waits for them; leaves no timer behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const probes = [...this.inFlight.values()];
    for (const p of probes) p.controller.abort(new Error('health prober stopped'));
    await Promise.all(probes.map((p) => p.done));
  }

  /**
   * One round: probes every open target not already being probed. Resolves when the probes this
   * round started have ended (the timer does not wait for it; tests may).
   */
  async tick(): Promise<void> {
    if (this.ticking) return; // the last round's reads are still out (a slow shared store)
    this.ticking = true;
    let started: Promise<void>[] = [];
    try {
      const now = this.options.clock.now();
      const idle = this.options.targets.filter((t) => !this.inFlight.has(t.id));
      const states = await Promise.all(idle.map((t) => this.options.breakers.read(t.id)));
      started = idle.flatMap((target, i) => {
        const state = states[i];
        return !this.stopped && state && wantsHealthProbe(state, now) ? [this.launch(target, state.openedAt)] : [];
      });
    } catch (error) {
      this.options.logger.warn({ err_message: error instanceof Error ? error.message : String(error) }, 'health probe round failed: could not read breaker states');
    } finally {
      this.ticking = false;
    }
    await Promise.all(started);
  }

  private schedule(): void {
    this.cancelTimer = this.options.clock.setTimer(() => {
      if (this.stopped) return;
      this.schedule();
      void this.tick();
    }, this.options.config.intervalMs);
  }

  private launch(target: Target, openedAt: number): Promise<void> {
    const controller = new AbortController();
    const done = this.probe(target, openedAt, controller).finally(() => this.inFlight.delete(target.id));
    this.inFlight.set(target.id, { done, controller });
    return done;
  }

  /** Never rejects. */
  private async probe(target: Target, openedAt: number, controller: AbortController): Promise<void> {
    const result = await probeOnce(target, this.options.config, this.options.clock, controller);
    if (this.stopped) return; // stopped mid-probe: an abort, not an outcome
    const base = { target: target.id, latency_ms: result.latencyMs };
    if (!result.ok) {
      this.options.logger.warn({ ...base, outcome: 'failed', kind: result.failure, status: result.status ?? null, code: result.code ?? null }, 'health probe failed: circuit stays open');
      return;
    }
    try {
      const change = await this.options.breakers.healthProbeSucceeded(target.id, openedAt, this.options.clock.now());
      this.options.logger.info({ ...base, outcome: 'ok', half_open: change !== undefined }, change ? 'health probe answered: circuit half-open' : 'health probe answered: circuit had already moved on');
    } catch (error) {
      this.options.logger.warn({ ...base, outcome: 'ok', err_message: error instanceof Error ? error.message : String(error) }, 'health probe answered, but the breaker could not be updated');
    }
  }
}

/**
 * Sends one probe and reads its answer to the end, within `timeoutMs` (then aborts it). Resolves
 * even when the target ignores the abort signal.
 */
export async function probeOnce(target: Target, config: HealthProbeConfig, clock: Clock, controller: AbortController): Promise<ProbeResult> {
  const startedAt = clock.now();
  const timedOut = new Error('health probe timed out');
  const cancelTimer = clock.setTimer(() => controller.abort(timedOut), config.timeoutMs);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(controller.signal.reason);
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  const run = answer(target, probeRequest(target, config), controller.signal);
  run.catch(() => undefined); // it may settle after the race is decided
  try {
    await Promise.race([run, aborted]);
    return { ok: true, latencyMs: clock.now() - startedAt };
  } catch (error) {
    const latencyMs = clock.now() - startedAt;
    if (error === timedOut) return { ok: false, latencyMs, failure: 'timeout' };
    if (isUpstreamFailure(error)) {
      const { status, code } = error.details;
      return { ok: false, latencyMs, failure: error.kind, ...(status !== undefined ? { status } : {}), ...(code !== undefined ? { code } : {}) };
    }
    return { ok: false, latencyMs, failure: 'error' };
  } finally {
    cancelTimer();
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
    if (!controller.signal.aborted) controller.abort(new Error('health probe ended')); // frees the upstream call
  }
}

/** Calls the target and drains its events; rejects unless an answer (a response or a chunk) arrived. */
async function answer(target: Target, request: ChatRequest, signal: AbortSignal): Promise<void> {
  const call = await target.call(request, { signal, stream: false });
  let answered = false;
  for await (const event of call.events) {
    if (event.type !== 'keepalive') answered = true;
  }
  if (!answered) throw new UpstreamFailure({ kind: 'empty_output', message: 'the health probe got no answer' });
}

function assertNever(value: never): never {
  throw new Error(`unhandled value: ${JSON.stringify(value)}`);
}
