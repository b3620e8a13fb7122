import type { StoreConfig } from './store-config.js';
import type { KeysConfig } from './keys-config.js';
import type { StateConfig } from './state-config.js';
import type { ContinuationSettings } from '../engine/continuation.js';
import type { BreakerConfig } from '../engine/breaker.js';
import type { HealthProbeConfig } from '../engine/health-probes.js';
import type { RouteContractSpec } from '../engine/contract.js';
import type { Price, RateLimits, Strategy } from '../engine/load-balance.js';
import type { RetryBudgetConfig } from '../engine/retry-budget.js';
import type { Policy, Timeouts } from '../engine/route.js';
import type { CapabilityOverrides } from '../providers/capabilities.js';
import type { FaultRule } from '../providers/fault-injection.js';
import type { CompatPreset } from '../providers/registry.js';
import type { RequestOverrides } from '../providers/request-overrides.js';
import type { PROVIDER_TYPES, ROUTE_KINDS } from './schema.js';
import type { Secret } from './secret.js';
import type { ServerLimits } from './server-limits.js';

export type ProviderType = (typeof PROVIDER_TYPES)[number];

export interface ProviderConfig {
  name: string;
  type: ProviderType;
  baseUrl: string;
  /** The first of `apiKeys` (kept for readers of a single key). */
  apiKey: Secret | undefined;
  /** The credential pool: `api_keys` in file order, or `api_key` alone; empty when the provider has no key. */
  apiKeys: Secret[];
  apiVersion: string | undefined;
  preset: CompatPreset | undefined;
  headers: Record<string, string>;
  streamUpstream: boolean;
  /** Per-model capability overrides (only the fields config sets). */
  models: Record<string, CapabilityOverrides>;
  /** Per-model request edits. */
  requestOverrides: Record<string, RequestOverrides>;
  /** Per-model prices (only models with a `price`). */
  modelPrices: Record<string, Price>;
  /** Per-model rate limits (only models with `rpm` or `tpm`). */
  modelLimits: Record<string, RateLimits>;
}

export type RungConfig =
  | {
      type: 'targets';
      targets: string[];
      timeouts: Timeouts;
      retries: number;
      /** How requests order the targets (load balancing inside the rung). */
      strategy: Strategy;
      /** Weights by target id (1 where the file sets none). */
      weights: Record<string, number>;
      /** Start the next candidate beside a first attempt with no first token after this long; undefined: no hedging. */
      hedgeAfterMs: number | undefined;
    }
  | { type: 'static'; content: string }
  | { type: 'cache'; maxAgeMs: number; maxEntries: number };

export type RouteKind = (typeof ROUTE_KINDS)[number];

export interface RouteConfig {
  name: string;
  /** `embeddings` routes serve POST /v1/embeddings only; `chat` routes everything else. */
  kind: RouteKind;
  ladder: RungConfig[];
  deadlineMs: number;
  timeouts: Timeouts;
  retries: number;
  policy: Policy;
  /** Embeddings routes: groups of model names declared to produce the same vectors (empty otherwise). */
  equivalentModels: string[][];
  /** Session affinity (chat routes; embeddings routes ignore it). */
  affinity: AffinityConfig;
  /** Chat routes: the output contract (checked at load: its regex and schema compile), or undefined for none. */
  contract: RouteContractSpec | undefined;
  /** Chat routes: mid-stream continuation. */
  continuation: ContinuationSettings;
  /** Chat routes: the most attempts after the first may cost per request (prices' currency); undefined: no cap. */
  maxExtraCost: number | undefined;
}

export interface AffinityConfig {
  enabled: boolean;
  ttlMs: number;
}

/** A validated configuration: no optionals, every cross-reference checked. */
export interface Config {
  /** Where it came from (a file path, or `demo`). */
  source: string;
  /** `adminKey` enables the admin API and fault headers (undefined: both refused). */
  server: { host: string; port: number; bodyLimitBytes: number; adminKey: Secret | undefined } & ServerLimits;
  logging: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  defaults: {
    timeouts: Timeouts;
    retries: number;
    deadlineMs: number;
    policy: Policy;
    affinity: AffinityConfig;
    continuation: ContinuationSettings;
    maxExtraCost: number | undefined;
  };
  breaker: BreakerConfig;
  /** `breaker.probes`: active health probes of open circuits, or undefined for none (the default). */
  breakerProbes: HealthProbeConfig | undefined;
  /** Injected faults (game days); empty unless configured. */
  faults: FaultRule[];
  /** The request log (`store:`); undefined when the file has none (the CLI then defaults to SQLite). */
  store: StoreConfig | undefined;
  /** Live state (`state:`): memory (the default) or Redis shared by several instances. */
  state: StateConfig;
  /** Virtual keys (`keys:`); undefined when the file has none (the CLI then uses understudy-keys.json beside it). */
  keys: KeysConfig | undefined;
  retryBudget: RetryBudgetConfig;
  providers: Record<string, ProviderConfig>;
  routes: Record<string, RouteConfig>;
}
