import type { EmbeddingTarget } from '../providers/embedding-target.js';
import type { Target } from '../providers/target.js';
import type { ContinuationSettings } from './continuation.js';
import type { RouteContract } from './contract.js';
import type { Affinity, RungBalance } from './load-balance.js';

/** What the ladder walk needs of any target, chat or embeddings: who it is. */
export interface TargetRef {
  /** `provider/model`. */
  readonly id: string;
  readonly provider: string;
  readonly model: string;
}

/** Per-attempt time limits. See docs/configuration.md for what each one guards. */
export interface Timeouts {
  /** Connecting and receiving response headers of a streaming upstream call. */
  headersMs: number;
  /** From response headers to the first output delta (reasoning deltas count, keep-alives do not). */
  firstTokenMs: number;
  /** Longest silence between output deltas. */
  stallMs: number;
  /** Whole attempt. */
  totalMs: number;
}

/** The policy knobs `decide()` reads. Every route has one; defaults in `DEFAULT_POLICY`. */
export interface Policy {
  /** A Retry-After at most this long is waited out on the same target; a longer one moves on. */
  maxRetryWaitMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Cooldown after a 429 that named no Retry-After. */
  rateLimitCooldownMs: number;
  /** Cooldown after `insufficient_quota` / spend caps. */
  quotaCooldownMs: number;
  /** Cooldown after `upstream_auth` / `model_not_found`. */
  misconfiguredCooldownMs: number;
  /** Route content-policy refusals to the next target instead of returning them. Off by default. */
  fallbackOnContentPolicy: boolean;
  /** A contract violation on a rung before this one skips to this rung (a stronger model); undefined: next target. */
  contractViolationRung: number | undefined;
}

export const DEFAULT_POLICY: Policy = {
  maxRetryWaitMs: 2_000,
  backoffBaseMs: 250,
  backoffMaxMs: 4_000,
  rateLimitCooldownMs: 1_000,
  quotaCooldownMs: 10 * 60_000,
  misconfiguredCooldownMs: 5 * 60_000,
  fallbackOnContentPolicy: false,
  contractViolationRung: undefined,
};

/** Generous defaults: they must not kill slow reasoning models. */
export const DEFAULT_TIMEOUTS: Timeouts = {
  headersMs: 15_000,
  firstTokenMs: 120_000,
  stallMs: 60_000,
  totalMs: 600_000,
};

export const DEFAULT_DEADLINE_MS = 600_000;
export const DEFAULT_RETRIES = 1;

export interface LiveRung<T extends TargetRef = Target> {
  type: 'targets';
  targets: T[];
  timeouts: Timeouts;
  /** Extra attempts on the same target for transient failures. */
  retries: number;
  /** Where this rung came from (for logs): the route's ladder or a request's fallback_models. */
  origin: 'route' | 'request';
  /** How the targets are ordered for each request (load-balance.ts); absent: weighted, every weight 1. */
  balance?: RungBalance;
  /** Hedging: with no first token after this long, the next candidate runs beside the first (hedge.ts); absent: none. */
  hedgeAfterMs?: number;
}

export interface StaticRung {
  type: 'static';
  content: string;
}

/**
 * A degradation rung: the last good answer to an identical request (same route, same
 * conversation and parameters, same client partition), served when every live rung failed, marked
 * degraded. Bounded in age and entries.
 */
export interface CacheRung {
  type: 'cache';
  maxAgeMs: number;
  maxEntries: number;
}

export type DegradationRung = StaticRung | CacheRung;

export type Rung<T extends TargetRef = Target> = LiveRung<T> | DegradationRung;

export interface Route {
  name: string;
  ladder: Rung[];
  deadlineMs: number;
  policy: Policy;
  /** Timeouts and retries for rungs built from a request's fallback_models. */
  defaultTimeouts: Timeouts;
  defaultRetries: number;
  /** The route's output contract (`routes.<r>.contract`); the request's own (response_format, tools) applies regardless. */
  contract?: RouteContract;
  /** Session affinity (`routes.<r>.affinity`); absent: none. */
  affinity?: Affinity;
  /** Mid-stream continuation (`routes.<r>.continuation`); absent: `DEFAULT_CONTINUATION`. */
  continuation?: ContinuationSettings;
  /** The most attempts after a request's first may cost, in the prices' currency (`max_extra_cost`, extra-cost.ts); absent: no cap. */
  maxExtraCost?: number;
}

/**
 * An embeddings route. Live rungs only (there is no fixed vector to degrade to), and every target
 * serves one vector space: the same model name, or names the route declares equivalent.
 */
export interface EmbeddingRoute {
  name: string;
  ladder: LiveRung<EmbeddingTarget>[];
  deadlineMs: number;
  policy: Policy;
  defaultTimeouts: Timeouts;
  defaultRetries: number;
  /** Groups of model names that produce the same vectors; a name is in one group at most. */
  equivalentModels: readonly (readonly string[])[];
}
