import { UpstreamFailure } from '../canonical/failure.js';
import { classifyHttpError } from './openai/errors.js';
import { sleep, type Clock } from '../time/clock.js';
import type { CallOptions, Target, UpstreamCall, UpstreamEvent } from './target.js';

/**
 * Game days: faults injected into a real target, so operators can rehearse an outage against
 * real providers. A wrapped target fails the way a real upstream would — the same FailureKinds,
 * through the same watchdogs and decisions — for a fraction of requests, inside a time window.
 */
export type InjectedFault =
  | { kind: 'status'; status: number; retryAfterMs?: number }
  | { kind: 'latency'; ms: number }
  | { kind: 'reset' }
  | { kind: 'no_response' }
  | { kind: 'cut'; afterChunks: number }
  | { kind: 'stall'; afterChunks: number }
  | { kind: 'malformed_chunk'; afterChunks: number }
  | { kind: 'empty_output' };

export interface FaultRule {
  /** `provider/model` the fault applies to. */
  target: string;
  fault: InjectedFault;
  /** Share of requests that get it (0–1). */
  fraction: number;
  /** Absolute window (epoch ms), either end open. */
  fromMs?: number;
  untilMs?: number;
  /** A daily UTC window in minutes since midnight, e.g. 02:00–03:00 → [120, 180); may wrap midnight. */
  daily?: { startMinute: number; endMinute: number };
}

/** Whether `rule` is in force at `now` (time only; the fraction is drawn per request). */
export function faultActive(rule: FaultRule, now: number): boolean {
  if (rule.fromMs !== undefined && now < rule.fromMs) return false;
  if (rule.untilMs !== undefined && now >= rule.untilMs) return false;
  if (rule.daily) {
    const minute = Math.floor((now % 86_400_000) / 60_000);
    const { startMinute: a, endMinute: b } = rule.daily;
    const inside = a <= b ? minute >= a && minute < b : minute >= a || minute < b;
    if (!inside) return false;
  }
  return true;
}

/** Where a wrapped target finds its rules: usually an empty array, so a target without faults costs one lookup per call. */
export interface FaultSource {
  rulesFor(targetId: string): readonly FaultRule[];
}

/**
 * A fault carried by one request (the `x-understudy-fault` header). With a target it applies to
 * every call this request makes to that target (retries included); without one, to the request's
 * first upstream call only, whichever target that is.
 */
export class RequestFault {
  #spent = false;

  constructor(
    readonly fault: InjectedFault,
    readonly target: string | undefined,
  ) {}

  /** The fault for a call to `targetId`, or undefined. Without a named target the first call claims it. */
  claim(targetId: string): InjectedFault | undefined {
    if (this.target !== undefined) return this.target === targetId ? this.fault : undefined;
    if (this.#spent) return undefined;
    this.#spent = true;
    return this.fault;
  }
}

/**
 * A target that fails as an injected fault when the request carries one for it (`options.fault`),
 * or else while one of its rules is active and the draw says so. The rules are read per call, so
 * rules added or removed at run time apply to the next call.
 */
export function withFaults(target: Target, faults: FaultSource, clock: Clock, random: () => number): Target {
  return {
    id: target.id,
    provider: target.provider,
    model: target.model,
    capabilities: target.capabilities,
    streamsUpstream: (stream) => target.streamsUpstream(stream),
    call: async (request, options) => {
      const fault = options.fault?.claim(target.id) ?? drawn(faults.rulesFor(target.id), clock, random);
      if (!fault) return target.call(request, options);
      return inject(fault, () => target.call(request, options), options, clock);
    },
  };
}

function drawn(rules: readonly FaultRule[], clock: Clock, random: () => number): InjectedFault | undefined {
  if (rules.length === 0) return undefined;
  const now = clock.now();
  return rules.find((r) => faultActive(r, now) && random() < r.fraction)?.fault;
}

async function inject(fault: InjectedFault, real: () => Promise<UpstreamCall>, options: CallOptions, clock: Clock): Promise<UpstreamCall> {
  switch (fault.kind) {
    case 'status': {
      const details = classifyHttpError(fault.status, '', fault.retryAfterMs, []);
      throw new UpstreamFailure({ ...details, message: `injected fault: HTTP ${fault.status}`, code: 'injected_fault' });
    }
    case 'latency':
      await sleep(clock, fault.ms, options.signal);
      return real();
    case 'reset':
      throw new UpstreamFailure({ kind: 'connection', code: 'ECONNRESET', message: 'injected fault: connection reset' });
    case 'no_response':
      await sleep(clock, Number.POSITIVE_INFINITY, options.signal);
      throw new UpstreamFailure({ kind: 'timeout_headers', message: 'injected fault: no response' });
    case 'cut':
    case 'stall':
    case 'malformed_chunk':
    case 'empty_output': {
      const call = await real();
      return { ...call, events: faulty(call.events, fault, options.signal, clock) };
    }
    default:
      return assertNever(fault);
  }
}

async function* faulty(events: AsyncIterable<UpstreamEvent>, fault: Extract<InjectedFault, { kind: 'cut' | 'stall' | 'malformed_chunk' | 'empty_output' }>, signal: AbortSignal, clock: Clock): AsyncGenerator<UpstreamEvent> {
  let chunks = 0;
  const after = fault.kind === 'empty_output' ? 0 : fault.afterChunks;
  const iterator = events[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (chunks >= after) {
        switch (fault.kind) {
          case 'cut':
            throw new UpstreamFailure({ kind: 'stream_cut', message: 'injected fault: stream cut' });
          case 'malformed_chunk':
            throw new UpstreamFailure({ kind: chunks > 0 ? 'stream_cut' : 'malformed_response', code: 'malformed_chunk', message: 'injected fault: malformed chunk' });
          case 'stall':
            await sleep(clock, Number.POSITIVE_INFINITY, signal);
            return;
          case 'empty_output':
            return; // the stream ends with no output: the engine's empty_output
        }
      }
      const next = await iterator.next();
      if (next.done) return;
      if (next.value.type === 'chunk') chunks++;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown fault ${JSON.stringify(value)}`);
}
