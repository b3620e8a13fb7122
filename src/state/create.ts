import { MemoryStateStore } from './memory.js';
import { RedisStateStore } from './redis.js';
import { ResilientStateStore, type OnRedisDown } from './resilient.js';
import type { StateHealth, StateStore } from './state-store.js';

/** Which backend to build (the config's `state:`, the URL already revealed). */
export type StateBackend =
  | { backend: 'memory' }
  | { backend: 'redis'; url: string; prefix: string; onRedisDown: OnRedisDown; commandTimeoutMs: number };

export interface StateStoreExtras {
  /** TTL of retry-budget scopes after their last write: more than the budget's window. */
  budgetTtlMs?: number;
  /** How long a starting instance waits for Redis before it starts degraded (default 1000 ms). */
  connectWaitMs?: number;
  onChange?: (health: StateHealth) => void;
}

/**
 * The state store for a backend: in memory, or Redis behind the local fallback. Waits a bounded
 * time for the first connection, so an instance starts on shared state when Redis is there, and
 * degraded (on local state, reconnecting by itself) when it is not.
 */
export async function createStateStore(backend: StateBackend, extras: StateStoreExtras = {}): Promise<StateStore> {
  if (backend.backend === 'memory') return new MemoryStateStore();
  const redis = new RedisStateStore({
    url: backend.url,
    prefix: backend.prefix,
    commandTimeoutMs: backend.commandTimeoutMs,
    ...(extras.budgetTtlMs !== undefined ? { budgetTtlMs: extras.budgetTtlMs } : {}),
  });
  const store = new ResilientStateStore(redis, { onRedisDown: backend.onRedisDown, ...(extras.onChange ? { onChange: extras.onChange } : {}) });
  await store.ready(extras.connectWaitMs ?? 1_000);
  return store;
}
