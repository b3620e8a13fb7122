import { z } from 'zod';
import { CONTRACT_FINISH_REASONS, CONTRACT_STREAM_MODES } from '../engine/contract.js';
import { STRATEGIES, type Strategy } from '../engine/load-balance.js';
import { COMPAT_PRESETS } from '../providers/registry.js';
import { serverLimitKeys } from './server-limits.js';
import { keysSchema } from './keys-config.js';
import { stateSchema } from './state-config.js';

/** The YAML file's schema. Strict: an unknown key is an error naming its path. */

const positiveMs = z.number().int().positive();

export const timeoutsSchema = z.strictObject({
  headers_ms: positiveMs.optional(),
  first_token_ms: positiveMs.optional(),
  stall_ms: positiveMs.optional(),
  total_ms: positiveMs.optional(),
});

export const policySchema = z.strictObject({
  max_retry_wait_ms: z.number().int().nonnegative().optional(),
  backoff_base_ms: z.number().int().nonnegative().optional(),
  backoff_max_ms: z.number().int().nonnegative().optional(),
  rate_limit_cooldown_ms: z.number().int().nonnegative().optional(),
  quota_cooldown_ms: z.number().int().nonnegative().optional(),
  misconfigured_cooldown_ms: z.number().int().nonnegative().optional(),
  fallback_on_content_policy: z.boolean().optional(),
});

export const PROVIDER_TYPES = ['openai', 'openai-compatible', 'azure-openai', 'anthropic', 'gemini'] as const;

export const requestOverridesSchema = z.strictObject({
  system: z.string().optional(),
  system_prefix: z.string().optional(),
  set: z.record(z.string(), z.unknown()).optional(),
  rename: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

export const modelSchema = z.strictObject({
  /** Edits to every request this model receives (prompt normalisation, parameter fixes). */
  request: requestOverridesSchema.optional(),
  context_window: z.number().int().positive().optional(),
  max_output_tokens: z.number().int().positive().optional(),
  tools: z.boolean().optional(),
  json_schema: z.boolean().optional(),
  vision: z.boolean().optional(),
  prefill: z.boolean().optional(),
  /** Price per 1M tokens (the `cheapest` strategy). */
  price: z.strictObject({ input_per_mtok: z.number().nonnegative(), output_per_mtok: z.number().nonnegative() }).optional(),
  /** Rate limits: requests and tokens per minute (the `headroom` strategy, where headers give no limit). */
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
});

export const providerSchema = z.strictObject({
  type: z.enum(PROVIDER_TYPES),
  /** Optional for openai, anthropic and gemini (their public endpoints) and for a preset; required otherwise. */
  base_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** `openai-compatible` only: a known server's quirks and default base URL. */
  preset: z.enum(COMPAT_PRESETS).optional(),
  /** Azure OpenAI `api-version`, or Anthropic's `anthropic-version`. */
  api_version: z.string().min(1).optional(),
  api_key: z.string().min(1).optional(),
  /** A credential pool, used round-robin (instead of `api_key`; a failing key is cooled and skipped). */
  api_keys: z.array(z.string().min(1)).min(1).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  stream_upstream: z.boolean().optional(),
  /** What each model can do, where the adapter's defaults are wrong for it. */
  models: z.record(z.string().min(1), modelSchema).optional(),
});

const targetRef = z.string().regex(/^[^/\s]+\/\S+$/, 'expected "provider/model"');

/** A rung's target: `provider/model`, or `{ target: provider/model, weight: 3 }`. */
export const targetEntrySchema = z.union([targetRef, z.strictObject({ target: targetRef, weight: z.number().positive().optional() })], {
  error: 'expected "provider/model" or { target: provider/model, weight: N }',
});

/**
 * A refinement rather than an enum: inside the rung union an enum's failure would be reported as
 * "expected a rung", where this one names the strategies (a refinement does not abort the option).
 */
const strategySchema = z
  .string()
  .refine((s) => (STRATEGIES as readonly string[]).includes(s), { error: `expected one of: ${STRATEGIES.join(', ')}` })
  .transform((s) => s as Strategy);

export const liveRungSchema = z.strictObject({
  /** Optional, unique in the route: lets `contract_violation_to` name the rung. */
  name: z.string().min(1).optional(),
  targets: z.union([targetRef, z.array(targetEntrySchema).min(1)]),
  /** How each request orders the targets (default weighted). */
  strategy: strategySchema.optional(),
  timeouts: timeoutsSchema.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  /** Hedging: with no first token after this long, the next candidate is started beside the first; the first to answer wins. */
  hedge_after_ms: positiveMs.optional(),
});

export const staticRungSchema = z.strictObject({
  static: z.string().min(1),
});

/** The last good answer to an identical request, when every live rung failed. */
export const cacheRungSchema = z.strictObject({
  cache: z.union([
    z.literal(true),
    z.strictObject({ max_age_ms: positiveMs.optional(), max_entries: z.number().int().positive().optional() }),
  ]),
});

export const rungSchema = z.union([liveRungSchema, staticRungSchema, cacheRungSchema], {
  error: 'expected a rung: { targets: [provider/model, ...] }, { cache: true } or { static: "text" }',
});

export const ROUTE_KINDS = ['chat', 'embeddings'] as const;

/** Session affinity: requests with `x-understudy-session` or `user` stick to the target that served the session. */
export const affinitySchema = z.strictObject({
  enabled: z.boolean().optional(),
  ttl_ms: positiveMs.optional(),
});

/** Mid-stream continuation: another target finishes a stream that failed after output. */
export const continuationSchema = z.strictObject({
  enabled: z.boolean().optional(),
  /** Also continue answers to requests with tools (default false: tool calls are held whole instead). */
  with_tools: z.boolean().optional(),
  /** Also continue answers to requests for JSON output (default false). */
  with_json: z.boolean().optional(),
  /** The shortest repeat the seam removes after a continue turn (default 12 characters). */
  min_overlap_chars: z.number().int().min(1).optional(),
  /** The continue-from-here turn sent to targets without prefill. */
  instruction: z.string().min(1).optional(),
});

/** The most a request may spend on attempts after its first (retries, hedges, fallbacks, continuations), in the price table's currency. */
const maxExtraCost = z.number().min(0);

/** What every answer of a route must satisfy (regex and schema are compiled at load). */
export const contractSchema = z.strictObject({
  finish_reasons: z.array(z.enum(CONTRACT_FINISH_REASONS)).min(1).optional(),
  min_length: z.number().int().positive().optional(),
  json_schema: z.record(z.string(), z.unknown()).optional(),
  regex: z.string().min(1).optional(),
  /** Streams: `pass` (default) checks at the end; `buffer` holds the answer until it passes. */
  stream: z.enum(CONTRACT_STREAM_MODES).optional(),
});

export const routeSchema = z.strictObject({
  /** What the route serves: `chat` (default; chat completions and messages) or `embeddings`. */
  kind: z.enum(ROUTE_KINDS).optional(),
  ladder: z.array(rungSchema).min(1, 'a ladder needs at least one rung'),
  /** Embeddings routes only: groups of model names that produce the same vectors. */
  equivalent_models: z.array(z.array(z.string().min(1)).min(2, 'a group names at least two models')).optional(),
  deadline_ms: positiveMs.optional(),
  timeouts: timeoutsSchema.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  policy: policySchema.optional(),
  /** Chat routes: session affinity (default `defaults.affinity`). */
  affinity: affinitySchema.optional(),
  /** Chat routes: the route's output contract. */
  contract: contractSchema.optional(),
  /** A contract violation skips to this rung (index or rung `name`) instead of the next target. */
  contract_violation_to: z.union([z.number().int().min(0), z.string().min(1)]).optional(),
  /** Chat routes: mid-stream continuation (default `defaults.continuation`). */
  continuation: continuationSchema.optional(),
  /** Chat routes: cap on what attempts after the first may cost per request (default `defaults.max_extra_cost`; none when unset). */
  max_extra_cost: maxExtraCost.optional(),
});

const count = z.number().int().positive();

export const breakerSchema = z.strictObject({
  window: count.optional(),
  min_requests: count.optional(),
  failure_rate: z.number().gt(0).max(1).optional(),
  consecutive_failures: count.optional(),
  cooldown_ms: positiveMs.optional(),
  max_cooldown_ms: positiveMs.optional(),
  half_open_probes: count.optional(),
  success_threshold: count.optional(),
  misconfigured_cooldown_ms: positiveMs.optional(),
  probe_lease_ms: positiveMs.optional(),
  /** Active health probes of open circuits; absent (the default): none, they cost money. */
  probes: z
    .strictObject({
      interval_ms: positiveMs.optional(),
      timeout_ms: positiveMs.optional(),
      prompt: z.string().min(1).optional(),
      max_tokens: count.optional(),
    })
    .optional(),
});

export const retryBudgetSchema = z.strictObject({
  ratio: z.number().min(0).optional(),
  window_ms: positiveMs.optional(),
  buckets: count.optional(),
  min_retries_per_window: z.number().int().min(0).optional(),
});

const afterChunks = z.number().int().min(0);

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('status'), status: z.number().int().min(400).max(599), retry_after_ms: z.number().int().min(0).optional() }),
  z.strictObject({ kind: z.literal('latency'), ms: positiveMs }),
  z.strictObject({ kind: z.literal('reset') }),
  z.strictObject({ kind: z.literal('no_response') }),
  z.strictObject({ kind: z.literal('cut'), after_chunks: afterChunks }),
  z.strictObject({ kind: z.literal('stall'), after_chunks: afterChunks }),
  z.strictObject({ kind: z.literal('malformed_chunk'), after_chunks: afterChunks }),
  z.strictObject({ kind: z.literal('empty_output') }),
]);

export const faultRuleSchema = z.strictObject({
  target: z.string().regex(/^[^/\s]+\/\S+$/, 'expected "provider/model"'),
  fault: faultSchema,
  fraction: z.number().min(0).max(1).optional(),
  /** A daily UTC window, "HH:MM-HH:MM" (may wrap midnight). */
  daily: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'expected "HH:MM-HH:MM" (UTC)').optional(),
  from: z.string().optional(),
  until: z.string().optional(),
});

/** The request log's backend: SQLite (a file) or PostgreSQL; `none` turns it off. */
export const storeSchema = z
  .strictObject({
    backend: z.enum(['sqlite', 'postgres', 'none']),
    /** SQLite: the file (relative to the config file), created on first start. */
    path: z.string().min(1).optional(),
    /** PostgreSQL: the connection URL (use ${env:...}: it may carry a password). */
    url: z.string().min(1).optional(),
    /** PostgreSQL: the schema the tables live in (default: the search_path's first). */
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier').optional(),
    retention: z.strictObject({ max_age_days: z.number().positive().optional(), max_rows: z.number().int().positive().optional() }).optional(),
    queue: z.strictObject({ max: count.optional(), batch: count.optional(), flush_ms: positiveMs.optional() }).optional(),
  })
  .refine((s) => s.backend !== 'postgres' || s.url !== undefined, { message: 'a postgres store needs a url', path: ['url'] });

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      body_limit_bytes: z.number().int().positive().optional(),
      /** Enables the admin API and fault headers; normally `${env:UNDERSTUDY_ADMIN_KEY}`. */
      admin_key: z.string().min(16, 'an admin key needs at least 16 characters').optional(),
      /** Hostile input and shutdown: max_messages, max_json_depth, max_header_bytes, request_timeout_ms, idle_timeout_ms, shutdown_grace_ms. */
      ...serverLimitKeys,
    })
    .optional(),
  logging: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
    })
    .optional(),
  defaults: z
    .strictObject({
      timeouts: timeoutsSchema.optional(),
      retries: z.number().int().min(0).max(10).optional(),
      deadline_ms: positiveMs.optional(),
      policy: policySchema.optional(),
      affinity: affinitySchema.optional(),
      continuation: continuationSchema.optional(),
      max_extra_cost: maxExtraCost.optional(),
    })
    .optional(),
  /** Circuit breakers, one per target. */
  breaker: breakerSchema.optional(),
  /** Retries and hedges as a share of first attempts, per route and fleet-wide. */
  retry_budget: retryBudgetSchema.optional(),
  /** Game days: faults injected into real targets. */
  faults: z.array(faultRuleSchema).optional(),
  /** The request log: every request with every attempt (src/store/). */
  store: storeSchema.optional(),
  /** Live state: in memory (one process) or in Redis (shared by several instances); docs/scaling.md. */
  state: stateSchema.optional(),
  /** Virtual keys: where they live and whether they are required (src/keys/). */
  keys: keysSchema.optional(),
  providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'provider names use letters, digits, _ . -'), providerSchema),
  routes: z.record(z.string().min(1), routeSchema),
});

export type RawConfig = z.infer<typeof configSchema>;
export type RawTimeouts = z.infer<typeof timeoutsSchema>;
export type RawPolicy = z.infer<typeof policySchema>;
export type RawRoute = z.infer<typeof routeSchema>;
export type RawModel = z.infer<typeof modelSchema>;
export type RawFaultRule = z.infer<typeof faultRuleSchema>;
export type RawLiveRung = z.infer<typeof liveRungSchema>;
export type RawAffinity = z.infer<typeof affinitySchema>;
export type RawStore = z.infer<typeof storeSchema>;
export type RawContinuation = z.infer<typeof continuationSchema>;
