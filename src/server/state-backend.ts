import type { Config } from '../config/types.js';
import { createStateStore } from '../state/create.js';
import type { StateStore } from '../state/state-store.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * The state store the config asks for (`state:`): memory, or Redis with the local fallback. Its
 * moves between ok and degraded are logged (warn when Redis is lost, info when it is back).
 */
export async function openStateStore(config: Config, logger: Logger): Promise<StateStore> {
  const state = config.state;
  if (state.backend === 'memory') return createStateStore({ backend: 'memory' });
  return createStateStore(
    { backend: 'redis', url: state.url.reveal(), prefix: state.prefix, onRedisDown: state.onRedisDown, commandTimeoutMs: state.commandTimeoutMs },
    {
      // A scope's buckets all leave the window `windowMs` after its last write; twice that is ample.
      budgetTtlMs: Math.max(60_000, 2 * config.retryBudget.windowMs),
      onChange: (health) => {
        if (health.status === 'ok') logger.info({ state: health }, 'state backend reachable again: back on shared state');
        else logger.warn({ state: health }, 'state backend unreachable: this instance runs on local state');
      },
    },
  );
}
