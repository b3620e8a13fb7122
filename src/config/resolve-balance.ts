import { DEFAULT_AFFINITY_TTL_MS } from '../engine/balancer.js';
import { DEFAULT_STRATEGY, type Price, type RateLimits, type Strategy } from '../engine/load-balance.js';
import type { ResolveProblem } from './resolve.js';
import type { RawAffinity, RawLiveRung, RawModel } from './schema.js';
import { rungTargets } from './rung-targets.js';
import type { AffinityConfig, ProviderConfig } from './types.js';

export const DEFAULT_AFFINITY: AffinityConfig = { enabled: true, ttlMs: DEFAULT_AFFINITY_TTL_MS };

/** `base` with the keys `raw` sets. */
export function mergeAffinity(base: AffinityConfig, raw: RawAffinity | undefined): AffinityConfig {
  return { enabled: raw?.enabled ?? base.enabled, ttlMs: raw?.ttl_ms ?? base.ttlMs };
}

/** Models with a `price`, by model name. */
export function modelPrices(models: Record<string, RawModel> | undefined): Record<string, Price> {
  const out: Record<string, Price> = {};
  for (const [model, m] of Object.entries(models ?? {})) {
    if (m.price) out[model] = { inputPerMTok: m.price.input_per_mtok, outputPerMTok: m.price.output_per_mtok };
  }
  return out;
}

/** Models with `rpm` or `tpm`, by model name. */
export function modelLimits(models: Record<string, RawModel> | undefined): Record<string, RateLimits> {
  const out: Record<string, RateLimits> = {};
  for (const [model, m] of Object.entries(models ?? {})) {
    if (m.rpm === undefined && m.tpm === undefined) continue;
    const limits: RateLimits = {};
    if (m.rpm !== undefined) limits.rpm = m.rpm;
    if (m.tpm !== undefined) limits.tpm = m.tpm;
    out[model] = limits;
  }
  return out;
}

/**
 * A live rung's targets, strategy and weights, checked: every target names a configured provider
 * and appears once, and a `cheapest` rung prices every target (an unpriced target would silently
 * sort last). Problems are pushed with paths under `at` (the rung).
 */
export function resolveRungTargets(
  rung: RawLiveRung,
  at: (string | number)[],
  providers: Record<string, ProviderConfig>,
  problems: ResolveProblem[],
): { targets: string[]; strategy: Strategy; weights: Record<string, number> } {
  const strategy = rung.strategy ?? DEFAULT_STRATEGY;
  const targets: string[] = [];
  const weights: Record<string, number> = {};
  for (const entry of rungTargets(rung)) {
    const path = [...at, ...entry.path];
    const slash = entry.id.indexOf('/');
    const provider = providers[entry.id.slice(0, slash)];
    if (!provider) {
      const known = Object.keys(providers);
      problems.push({
        path,
        message: `unknown provider '${entry.id.slice(0, slash)}' in '${entry.id}' (expected one of: ${known.length ? known.join(', ') : 'none configured'})`,
      });
    } else if (strategy === 'cheapest' && !provider.modelPrices[entry.id.slice(slash + 1)]) {
      problems.push({
        path,
        message: `strategy cheapest needs a price for every target, and '${entry.id}' has none (set providers.${provider.name}.models.${entry.id.slice(slash + 1)}.price)`,
      });
    }
    if (targets.includes(entry.id)) problems.push({ path, message: `'${entry.id}' appears twice in this rung` });
    targets.push(entry.id);
    weights[entry.id] = entry.weight ?? 1;
  }
  return { targets, strategy, weights };
}
