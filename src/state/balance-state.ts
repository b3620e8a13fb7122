/**
 * What the StateStore keeps for load balancing inside a rung and for session affinity: per target,
 * attempts in flight, an EWMA of time to first output and the last rate-limit headroom the
 * provider reported; per round-robin rung, a cursor; per (route, session), the target that served.
 * The orderings that read them live in `engine/load-balance.ts`; the store only keeps the numbers
 * and applies one fixed rule itself (`foldLatency`), so a Redis implementation can do each update
 * in one round trip (a Lua script mirroring it). Plain JSON: times are epoch milliseconds.
 */

/** The rate-limit windows providers report in their response headers. */
export type RateDimension = 'requests' | 'tokens' | 'input_tokens' | 'output_tokens';

/** One rate-limit window as reported: what is left, of how much, and when it refills. */
export interface LimitWindow {
  remaining: number;
  /** The window's size, when the provider said (else configured `rpm`/`tpm` stand in). */
  limit?: number;
  /** When the window refills (epoch ms), when the provider said. */
  resetAt?: number;
}

/** A target's rate-limit headroom, from the headers of its latest successful answer. */
export interface Headroom {
  /** When it was reported (epoch ms). */
  at: number;
  windows: Partial<Record<RateDimension, LimitWindow>>;
}

/** Exponentially weighted moving average of a target's time to first output. */
export interface LatencyEwma {
  ms: number;
  /** Samples folded in so far. */
  samples: number;
  /** When the last sample was folded in (epoch ms). */
  at: number;
}

/** One target's live load signals. */
export interface TargetLoad {
  /** Attempts dispatched to it and not yet over (a stream is in flight until it ends). */
  inFlight: number;
  latency?: LatencyEwma;
  headroom?: Headroom;
}

/** Everything one request's ordering needs, asked for in one read. */
export interface BalanceQuery {
  /** Targets whose load is needed (only those of rungs whose strategy reads load). */
  targets: readonly string[];
  /** Round-robin cursors to take a turn of: each is incremented, and its value before returned. */
  cursors: readonly string[];
  /** The session's sticky target to look up, if the request carries a session. */
  affinity?: { scope: string; key: string };
  now: number;
}

/** The answer to a `BalanceQuery`. */
export interface BalanceSnapshot {
  /** Every queried target (one never seen has `inFlight: 0` and nothing else). */
  targets: Record<string, TargetLoad>;
  /** Every queried cursor's turn (0 for the first request of a cursor). */
  cursors: Record<string, number>;
  /** The session's target, when one is stored and not expired at `now`. */
  affinity?: { targetId: string; expiresAt: number };
}

/** What ends an attempt for the balancer: one write folds all of it in. */
export interface AttemptEnd {
  /** Time to first output, when the attempt measured one (or timed out waiting: a lower bound). */
  ttftMs?: number;
  /** EWMA smoothing factor in (0, 1]: the weight of the new sample. */
  alpha: number;
  /** Replaces the stored headroom when given. */
  headroom?: Headroom;
  now: number;
}

/** The EWMA after one more sample: the first sample is taken as is; later ones move it by `alpha` of the difference. */
export function foldLatency(previous: LatencyEwma | undefined, sampleMs: number, alpha: number, now: number): LatencyEwma {
  if (!previous) return { ms: sampleMs, samples: 1, at: now };
  return { ms: previous.ms + alpha * (sampleMs - previous.ms), samples: previous.samples + 1, at: now };
}
