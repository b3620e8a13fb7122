import { DEFAULT_CONTINUATION, type ContinuationSettings } from '../engine/continuation.js';
import {
  DEFAULT_DEADLINE_MS,
  DEFAULT_POLICY,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUTS,
  type Policy,
  type Timeouts,
} from '../engine/route.js';
import { breakerConfig, DEFAULT_BREAKER_CONFIG } from '../engine/breaker.js';
import { healthProbeConfig, type HealthProbeConfig } from '../engine/health-probes.js';
import { DEFAULT_RETRY_BUDGET_CONFIG, retryBudgetConfig } from '../engine/retry-budget.js';
import type { CapabilityOverrides } from '../providers/capabilities.js';
import { COMPAT_PRESET_INFO } from '../providers/openai/presets.js';
import { DEFAULT_BASE_URLS } from '../providers/registry.js';
import type { RequestOverrides } from '../providers/request-overrides.js';
import type { RawConfig, RawContinuation, RawFaultRule, RawModel, RawPolicy, RawRoute, RawTimeouts } from './schema.js';
import type { FaultRule, InjectedFault } from '../providers/fault-injection.js';
import { routeKindProblems } from './route-kind.js';
import { DEFAULT_AFFINITY, mergeAffinity, modelLimits, modelPrices, resolveRungTargets } from './resolve-balance.js';
import { resolveRouteContract } from './route-contract.js';
import { Secret } from './secret.js';
import { resolveStore } from './store-config.js';
import { resolveKeys } from './keys-config.js';
import { resolveState } from './state-config.js';
import { serverLimits } from './server-limits.js';
import type { Config, ProviderConfig, RouteConfig, RungConfig } from './types.js';

export interface ResolveProblem {
  path: (string | number)[];
  message: string;
}

export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_PORT = 4100;
/** The cache rung's defaults: answers up to a day old, 1000 per route and client partition. */
export const DEFAULT_CACHE_MAX_AGE_MS = 24 * 60 * 60_000;
export const DEFAULT_CACHE_MAX_ENTRIES = 1_000;

/** Phase two: the schema-valid file becomes a Config with no optionals and checked cross-references. */
export function resolveConfig(raw: RawConfig, source: string, baseDir: string = process.cwd()): { config: Config; problems: ResolveProblem[] } {
  const problems: ResolveProblem[] = [];
  const defaultTimeouts = mergeTimeouts(DEFAULT_TIMEOUTS, raw.defaults?.timeouts);
  const defaultPolicy = mergePolicy(DEFAULT_POLICY, raw.defaults?.policy);
  const defaults = {
    timeouts: defaultTimeouts,
    retries: raw.defaults?.retries ?? DEFAULT_RETRIES,
    deadlineMs: raw.defaults?.deadline_ms ?? DEFAULT_DEADLINE_MS,
    policy: defaultPolicy,
    affinity: mergeAffinity(DEFAULT_AFFINITY, raw.defaults?.affinity),
    continuation: mergeContinuation(DEFAULT_CONTINUATION, raw.defaults?.continuation),
    maxExtraCost: raw.defaults?.max_extra_cost,
  };

  const providers: Record<string, ProviderConfig> = {};
  for (const [name, p] of Object.entries(raw.providers)) {
    const baseUrl = p.base_url ?? (p.preset ? COMPAT_PRESET_INFO[p.preset].baseUrl : DEFAULT_BASE_URLS[p.type]);
    if (!baseUrl) problems.push({ path: ['providers', name, 'base_url'], message: `a ${p.type} provider needs a base_url${p.type === 'openai-compatible' ? ' (or a preset)' : ''}` });
    if (p.preset && p.type !== 'openai-compatible') problems.push({ path: ['providers', name, 'preset'], message: `preset only applies to type openai-compatible` });
    const apiKeys = credentialPool(name, p, problems);
    providers[name] = {
      name,
      type: p.type,
      baseUrl: baseUrl ?? '',
      apiKey: apiKeys[0],
      apiKeys,
      apiVersion: p.api_version,
      preset: p.preset,
      headers: p.headers ?? {},
      streamUpstream: p.stream_upstream ?? true,
      models: Object.fromEntries(Object.entries(p.models ?? {}).map(([model, m]) => [model, modelOverrides(m)])),
      requestOverrides: Object.fromEntries(
        Object.entries(p.models ?? {}).flatMap(([model, m]) => (m.request ? [[model, requestOverrides(m.request)]] : [])),
      ),
      modelPrices: modelPrices(p.models),
      modelLimits: modelLimits(p.models),
    };
  }

  const routes: Record<string, RouteConfig> = {};
  for (const [name, r] of Object.entries(raw.routes)) {
    routes[name] = resolveRoute(name, r, defaults, providers, problems);
    problems.push(...routeKindProblems(name, r, providers));
  }

  const config: Config = {
    source,
    server: {
      host: raw.server?.host ?? '127.0.0.1',
      port: raw.server?.port ?? DEFAULT_PORT,
      bodyLimitBytes: raw.server?.body_limit_bytes ?? DEFAULT_BODY_LIMIT_BYTES,
      adminKey: raw.server?.admin_key !== undefined ? new Secret(raw.server.admin_key) : undefined,
      ...serverLimits(raw.server),
    },
    logging: { level: raw.logging?.level ?? 'info' },
    defaults,
    faults: (raw.faults ?? []).map((f, i) => faultRule(f, i, providers, problems)),
    store: resolveStore(raw.store, baseDir),
    state: resolveState(raw.state, problems),
    keys: resolveKeys(raw.keys, baseDir, problems, raw.state),
    breaker: checked(problems, 'breaker', () => breakerConfig(camelKeys(raw.breaker)), DEFAULT_BREAKER_CONFIG),
    breakerProbes: raw.breaker?.probes ? healthProbes(raw.breaker.probes) : undefined,
    retryBudget: checked(problems, 'retry_budget', () => retryBudgetConfig(camelKeys(raw.retry_budget)), DEFAULT_RETRY_BUDGET_CONFIG),
    providers,
    routes,
  };
  return { config, problems };
}

/** `api_keys` (or `api_key` alone) as the provider's credential pool; a repeated key is named by position, never by value. */
function credentialPool(name: string, p: RawConfig['providers'][string], problems: ResolveProblem[]): Secret[] {
  if (p.api_key !== undefined && p.api_keys !== undefined) {
    problems.push({ path: ['providers', name, 'api_keys'], message: 'set api_key (one key) or api_keys (a pool), not both' });
  }
  const keys = p.api_keys ?? (p.api_key !== undefined ? [p.api_key] : []);
  keys.forEach((key, i) => {
    const first = keys.indexOf(key);
    if (first < i) problems.push({ path: ['providers', name, 'api_keys', i], message: `the same key as api_keys[${first}]` });
  });
  return keys.map((key) => new Secret(key));
}

/** `min_requests: 5` → `{ minRequests: 5 }` (unset keys left out, so defaults apply). */
function camelKeys<T extends object>(raw: T | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (typeof value === 'number') out[key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  return out;
}

/** `breaker.probes` (values already checked by the schema) with defaults filled in. */
function healthProbes(raw: NonNullable<NonNullable<RawConfig['breaker']>['probes']>): HealthProbeConfig {
  return healthProbeConfig({ ...camelKeys(raw), ...(raw.prompt !== undefined ? { prompt: raw.prompt } : {}) });
}

/** Builds a config section whose own checks throw (RangeError naming the key), turning a throw into a problem at `section`. */
function checked<T>(problems: ResolveProblem[], section: string, build: () => T, fallback: Readonly<T>): T {
  try {
    return build();
  } catch (error) {
    // The section's own messages name keys in code's camelCase; say them as the file does.
    const message = (error instanceof Error ? error.message : String(error)).replace(/\b(?:breaker|retryBudget)\.([A-Za-z]+)/g, (_m, key: string) => `${section}.${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`);
    problems.push({ path: [section], message });
    return { ...fallback };
  }
}

function resolveRoute(
  name: string,
  r: RawRoute,
  defaults: Config['defaults'],
  providers: Record<string, ProviderConfig>,
  problems: ResolveProblem[],
): RouteConfig {
  const timeouts = mergeTimeouts(defaults.timeouts, r.timeouts);
  const retries = r.retries ?? defaults.retries;
  const contract = resolveRouteContract(name, r, problems);
  const ladder: RungConfig[] = [];
  r.ladder.forEach((rung, i) => {
    const at: (string | number)[] = ['routes', name, 'ladder', i];
    if (ladder.some((earlier) => earlier.type === 'static')) {
      problems.push({ path: at, message: 'unreachable: a static rung always answers, so it must be the last rung' });
    }
    if ('static' in rung) {
      ladder.push({ type: 'static', content: rung.static });
      return;
    }
    if ('cache' in rung) {
      if (ladder.some((earlier) => earlier.type === 'cache')) problems.push({ path: at, message: 'a ladder has at most one cache rung' });
      const options = rung.cache === true ? {} : rung.cache;
      ladder.push({ type: 'cache', maxAgeMs: options.max_age_ms ?? DEFAULT_CACHE_MAX_AGE_MS, maxEntries: options.max_entries ?? DEFAULT_CACHE_MAX_ENTRIES });
      return;
    }
    if (ladder.some((earlier) => earlier.type === 'cache')) {
      problems.push({ path: at, message: 'a live rung after the cache rung: degradation rungs (cache, then static) come after every live rung' });
    }
    const { targets, strategy, weights } = resolveRungTargets(rung, at, providers, problems);
    ladder.push({
      type: 'targets',
      targets,
      timeouts: mergeTimeouts(timeouts, rung.timeouts),
      retries: rung.retries ?? retries,
      strategy,
      weights,
      hedgeAfterMs: rung.hedge_after_ms,
    });
  });
  return {
    name,
    kind: r.kind ?? 'chat',
    ladder,
    equivalentModels: r.equivalent_models ?? [],
    affinity: mergeAffinity(defaults.affinity, r.affinity),
    deadlineMs: r.deadline_ms ?? defaults.deadlineMs,
    timeouts,
    retries,
    policy: { ...mergePolicy(defaults.policy, r.policy), contractViolationRung: contract.violationRung },
    contract: contract.contract,
    continuation: mergeContinuation(defaults.continuation, r.continuation),
    maxExtraCost: r.max_extra_cost ?? defaults.maxExtraCost,
  };
}

function mergeContinuation(base: ContinuationSettings, raw: RawContinuation | undefined): ContinuationSettings {
  return {
    enabled: raw?.enabled ?? base.enabled,
    withTools: raw?.with_tools ?? base.withTools,
    withJson: raw?.with_json ?? base.withJson,
    minOverlapChars: raw?.min_overlap_chars ?? base.minOverlapChars,
    instruction: raw?.instruction ?? base.instruction,
  };
}

function mergeTimeouts(base: Timeouts, raw: RawTimeouts | undefined): Timeouts {
  return {
    headersMs: raw?.headers_ms ?? base.headersMs,
    firstTokenMs: raw?.first_token_ms ?? base.firstTokenMs,
    stallMs: raw?.stall_ms ?? base.stallMs,
    totalMs: raw?.total_ms ?? base.totalMs,
  };
}

function mergePolicy(base: Policy, raw: RawPolicy | undefined): Policy {
  return {
    maxRetryWaitMs: raw?.max_retry_wait_ms ?? base.maxRetryWaitMs,
    backoffBaseMs: raw?.backoff_base_ms ?? base.backoffBaseMs,
    backoffMaxMs: raw?.backoff_max_ms ?? base.backoffMaxMs,
    rateLimitCooldownMs: raw?.rate_limit_cooldown_ms ?? base.rateLimitCooldownMs,
    quotaCooldownMs: raw?.quota_cooldown_ms ?? base.quotaCooldownMs,
    misconfiguredCooldownMs: raw?.misconfigured_cooldown_ms ?? base.misconfiguredCooldownMs,
    fallbackOnContentPolicy: raw?.fallback_on_content_policy ?? base.fallbackOnContentPolicy,
    contractViolationRung: base.contractViolationRung,
  };
}

function modelOverrides(m: RawModel): CapabilityOverrides {
  const out: CapabilityOverrides = {};
  if (m.context_window !== undefined) out.maxContextTokens = m.context_window;
  if (m.max_output_tokens !== undefined) out.maxOutputTokens = m.max_output_tokens;
  if (m.tools !== undefined) out.tools = m.tools;
  if (m.json_schema !== undefined) out.jsonSchema = m.json_schema;
  if (m.vision !== undefined) out.vision = m.vision;
  if (m.prefill !== undefined) out.prefill = m.prefill;
  return out;
}

function requestOverrides(r: NonNullable<RawModel['request']>): RequestOverrides {
  const out: RequestOverrides = {};
  if (r.system !== undefined) out.system = r.system;
  if (r.system_prefix !== undefined) out.systemPrefix = r.system_prefix;
  if (r.set) out.set = r.set;
  if (r.rename) out.rename = r.rename;
  if (r.remove) out.remove = r.remove;
  if (r.headers) out.headers = r.headers;
  return out;
}

/** A `faults:` entry (or an admin API body) as a FaultRule; problems are reported at `faults[i]`. */
export function faultRule(raw: RawFaultRule, i: number, providers: Record<string, ProviderConfig>, problems: ResolveProblem[]): FaultRule {
  const at = ['faults', i];
  const provider = raw.target.slice(0, raw.target.indexOf('/'));
  if (!providers[provider]) problems.push({ path: [...at, 'target'], message: `unknown provider '${provider}' (expected one of: ${Object.keys(providers).join(', ')})` });
  const rule: FaultRule = { target: raw.target, fault: injectedFault(raw.fault), fraction: raw.fraction ?? 1 };
  for (const key of ['from', 'until'] as const) {
    const text = raw[key];
    if (text === undefined) continue;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) problems.push({ path: [...at, key], message: `expected an ISO 8601 time, got '${text}'` });
    else if (key === 'from') rule.fromMs = ms;
    else rule.untilMs = ms;
  }
  if (raw.daily) {
    const [start, end] = raw.daily.split('-').map((hhmm) => {
      const [h, m] = hhmm.split(':').map(Number);
      return (h ?? 0) * 60 + (m ?? 0);
    });
    rule.daily = { startMinute: start ?? 0, endMinute: end ?? 0 };
  }
  return rule;
}

export function injectedFault(f: RawFaultRule['fault']): InjectedFault {
  switch (f.kind) {
    case 'status':
      return f.retry_after_ms !== undefined ? { kind: 'status', status: f.status, retryAfterMs: f.retry_after_ms } : { kind: 'status', status: f.status };
    case 'latency':
      return { kind: 'latency', ms: f.ms };
    case 'cut':
    case 'stall':
    case 'malformed_chunk':
      return { kind: f.kind, afterChunks: f.after_chunks };
    case 'reset':
    case 'no_response':
    case 'empty_output':
      return { kind: f.kind };
  }
}
