import type { Config } from '../config/types.js';
import type { Policy } from '../engine/route.js';
import { CredentialPool, type CredentialCooling } from '../providers/credentials.js';
import type { Logger } from '../telemetry/logger.js';

/** A key cools for as long as the engine would cool a target after the same failure (the file's `defaults.policy`). */
export function credentialCooling(policy: Policy): CredentialCooling {
  return { authMs: policy.misconfiguredCooldownMs, quotaMs: policy.quotaCooldownMs, rateLimitMs: policy.rateLimitCooldownMs };
}

/** One credential pool per provider (an empty one for a provider without a key, so a rotation can add keys). */
export function createCredentialPools(config: Config, now: () => number, logger: Logger): Map<string, CredentialPool> {
  const cooling = credentialCooling(config.defaults.policy);
  const pools = new Map<string, CredentialPool>();
  for (const p of Object.values(config.providers)) {
    const pool = new CredentialPool(
      p.apiKeys.map((key) => key.reveal()),
      {
        now,
        cooling,
        // A key by its position only: the value never reaches a log line.
        onCooled: (e) =>
          logger.warn({ provider: p.name, key_index: e.index, kind: e.kind, cooldown_ms: e.ms, keys_available: e.available }, 'provider key cooled'),
      },
    );
    pools.set(p.name, pool);
  }
  return pools;
}

/** Puts `config`'s keys into the running pools (providers that exist in both); returns the providers whose keys changed. */
export function applyCredentials(pools: ReadonlyMap<string, CredentialPool>, config: Config): { provider: string; keys: number }[] {
  const changed: { provider: string; keys: number }[] = [];
  for (const [name, pool] of pools) {
    const provider = config.providers[name];
    if (!provider) continue;
    const keys = provider.apiKeys.map((key) => key.reveal());
    const current = pool.keys();
    if (keys.length === current.length && keys.every((key, i) => key === current[i])) continue;
    pool.replace(keys);
    changed.push({ provider: name, keys: keys.length });
  }
  return changed;
}

/** Every key any pool has held: what an error message about the config is scrubbed of. */
export function allPoolSecrets(pools: ReadonlyMap<string, CredentialPool>): string[] {
  return [...pools.values()].flatMap((pool) => pool.secrets);
}
