import { isAbsolute, join } from 'node:path';
import type { RawStore } from './schema.js';
import { Secret } from './secret.js';

/** The request log's backend and its writer (`store:`); see src/store/. */
export type StoreConfig =
  | { backend: 'none' }
  | ({ backend: 'sqlite'; path: string } & StoreTuning)
  | ({ backend: 'postgres'; url: Secret; schema: string | undefined } & StoreTuning);

export interface StoreTuning {
  retention: { maxAgeMs?: number; maxRows?: number };
  queue: { max: number; batch: number; flushMs: number };
}

export const DEFAULT_STORE_FILE = 'understudy-requests.db';
const DAY_MS = 86_400_000;

/**
 * `store:` as configured, or undefined when the file has none (`understudy start` then uses SQLite
 * beside the config file — see `defaultStore` — while the library and tests write no log unless asked).
 * A relative SQLite path is relative to the config file's directory.
 */
export function resolveStore(raw: RawStore | undefined, configDir: string): StoreConfig | undefined {
  if (!raw) return undefined;
  if (raw.backend === 'none') return { backend: 'none' };
  const tuning: StoreTuning = {
    retention: {
      ...(raw.retention?.max_age_days !== undefined ? { maxAgeMs: raw.retention.max_age_days * DAY_MS } : { maxAgeMs: 30 * DAY_MS }),
      ...(raw.retention?.max_rows !== undefined ? { maxRows: raw.retention.max_rows } : {}),
    },
    queue: { max: raw.queue?.max ?? 10_000, batch: raw.queue?.batch ?? 200, flushMs: raw.queue?.flush_ms ?? 250 },
  };
  if (raw.backend === 'postgres') return { backend: 'postgres', url: new Secret(raw.url ?? ''), schema: raw.schema, ...tuning };
  const path = raw.path ?? DEFAULT_STORE_FILE;
  return { backend: 'sqlite', path: path === ':memory:' || isAbsolute(path) ? path : join(configDir, path), ...tuning };
}

/** The CLI's default when the file has no `store:`: SQLite in `dir`. */
export function defaultStore(dir: string): StoreConfig {
  return resolveStore({ backend: 'sqlite' }, dir) ?? { backend: 'none' };
}
