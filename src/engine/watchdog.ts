import { UpstreamFailure, isUpstreamFailure, type FailureKind } from '../canonical/failure.js';
import type { Clock } from '../time/clock.js';
import type { Timeouts } from './route.js';

export type AttemptPhase = 'headers' | 'body';

interface Limit {
  at: number;
  kind: FailureKind;
  message: string;
}

/**
 * Guards one attempt: owns its AbortController, and fails whatever the attempt is waiting for
 * when the earliest applicable limit passes (headers, first token, stall, attempt total, request
 * deadline). On expiry it aborts the upstream request with the classified failure as reason.
 */
export class AttemptWatch {
  private readonly controller = new AbortController();
  readonly startedAt: number;
  headersAt: number | undefined;
  firstOutputAt: number | undefined;
  /** The upstream's forwarded response headers (rate-limit headroom, request ids), once they arrived. */
  upstreamHeaders: Readonly<Record<string, string>> | undefined;
  private lastOutputAt: number | undefined;
  private disposed = false;
  private onDisposed: (() => void)[] = [];
  private readonly unlink: () => void;
  /** What the attempt is waiting for now, and how to fail that wait. */
  private phase: AttemptPhase = 'headers';
  private waiter: ((failure: UpstreamFailure) => void) | undefined;
  /** One timer per attempt, re-armed lazily: output moves the stall limit without touching it. */
  private timerAt: number | undefined;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly timeouts: Timeouts,
    private readonly deadlineAt: number,
    /** Whether headers arrive before generation (so `headersMs` applies). */
    private readonly headersEarly: boolean,
    parent: AbortSignal,
  ) {
    this.startedAt = clock.now();
    const onParentAbort = (): void => this.abort(clientCancelled());
    if (parent.aborted) onParentAbort();
    else parent.addEventListener('abort', onParentAbort, { once: true });
    this.unlink = () => parent.removeEventListener('abort', onParentAbort);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  markHeaders(headers?: Readonly<Record<string, string>>): void {
    this.headersAt = this.clock.now();
    if (headers) this.upstreamHeaders = headers;
  }

  markOutput(): void {
    const now = this.clock.now();
    if (this.firstOutputAt === undefined) this.firstOutputAt = now;
    this.lastOutputAt = now;
  }

  /** Aborts the upstream call with `failure` as the reason and fails the current wait. */
  abort(failure: UpstreamFailure): void {
    if (!this.controller.signal.aborted) this.controller.abort(failure);
    this.disarm();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(this.controller.signal.reason as UpstreamFailure);
  }

  /** Whether the attempt was given up on while waiting for its headers or first output. */
  get timedOutWaitingForOutput(): boolean {
    const reason: unknown = this.controller.signal.reason;
    if (!this.controller.signal.aborted || !isUpstreamFailure(reason)) return false;
    return reason.details.kind === 'timeout_first_token' || reason.details.kind === 'timeout_headers';
  }

  /** Stops the timer and stops listening to the parent signal. Call once the attempt is over; the first call runs the `onDispose` callbacks. */
  dispose(): void {
    this.disarm();
    this.unlink();
    if (this.disposed) return;
    this.disposed = true;
    const callbacks = this.onDisposed;
    this.onDisposed = [];
    for (const fn of callbacks) fn();
  }

  /** Runs `fn` once, when the attempt is over (the first `dispose`): a stream's attempt lasts until the stream ends. */
  onDispose(fn: () => void): void {
    if (this.disposed) fn();
    else this.onDisposed.push(fn);
  }

  /** Awaits `promise`, or fails with the first limit to expire, aborting the upstream call. One wait at a time. */
  within<T>(promise: Promise<T>, phase: AttemptPhase): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) {
      promise.catch(() => undefined);
      return Promise.reject(signal.reason);
    }
    this.phase = phase;
    const limit = this.nextLimit(phase);
    if (limit.at <= this.clock.now()) {
      promise.catch(() => undefined);
      this.expire(limit);
      return Promise.reject(signal.reason);
    }
    this.arm(limit.at);
    return new Promise<T>((resolve, reject) => {
      this.waiter = reject;
      promise.then(
        (value) => {
          if (this.waiter !== reject) return;
          this.waiter = undefined;
          resolve(value);
        },
        (error: unknown) => {
          if (this.waiter !== reject) return;
          this.waiter = undefined;
          reject(signal.aborted && isUpstreamFailure(signal.reason) ? signal.reason : error);
        },
      );
    });
  }

  private arm(at: number): void {
    if (this.timerAt !== undefined && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    this.cancelTimer = this.clock.setTimer(() => this.onTimer(), at - this.clock.now());
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = undefined;
  }

  private onTimer(): void {
    this.cancelTimer = undefined;
    this.timerAt = undefined;
    if (!this.waiter) return; // nothing is waiting; the next wait re-arms
    const limit = this.nextLimit(this.phase);
    if (limit.at <= this.clock.now()) this.expire(limit);
    else this.arm(limit.at);
  }

  private expire(limit: Limit): void {
    this.abort(new UpstreamFailure({ kind: limit.kind, message: limit.message }));
  }

  private nextLimit(phase: AttemptPhase): Limit {
    const t = this.timeouts;
    const limits: Limit[] = [];
    if (phase === 'headers') {
      if (this.headersEarly) {
        limits.push({ at: this.startedAt + t.headersMs, kind: 'timeout_headers', message: `no response headers within ${t.headersMs} ms` });
      }
      limits.push({ at: this.startedAt + t.totalMs, kind: 'timeout_headers', message: `no response within the attempt limit of ${t.totalMs} ms` });
    } else if (this.lastOutputAt === undefined) {
      const from = this.headersAt ?? this.startedAt;
      limits.push({ at: from + t.firstTokenMs, kind: 'timeout_first_token', message: `no output within ${t.firstTokenMs} ms of the response headers` });
      limits.push({ at: this.startedAt + t.totalMs, kind: 'timeout_first_token', message: `no output within the attempt limit of ${t.totalMs} ms` });
    } else {
      limits.push({ at: this.lastOutputAt + t.stallMs, kind: 'stream_stalled', message: `no output for ${t.stallMs} ms` });
      limits.push({ at: this.startedAt + t.totalMs, kind: 'stream_stalled', message: `attempt exceeded its limit of ${t.totalMs} ms while streaming` });
    }
    limits.push({ at: this.deadlineAt, kind: 'deadline_exceeded', message: 'the request deadline passed' });
    let earliest = limits[0] as Limit;
    for (const limit of limits) if (limit.at < earliest.at) earliest = limit;
    return earliest;
  }
}

export function clientCancelled(): UpstreamFailure {
  return new UpstreamFailure({ kind: 'client_cancelled', message: 'the client disconnected' });
}
