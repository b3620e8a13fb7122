import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { Secret } from './secret.js';
import { DEFAULT_REDIS_URL, DEFAULT_STATE_PREFIX, type RawState } from './state-config.js';

/**
 * `keys:`: where virtual keys live (src/keys/) and whether they are required. Schema, resolved
 * form and defaults live together here; schema.ts and resolve.ts only refer to them.
 */
export const keysSchema = z.strictObject({
  /** `file` (default): one JSON file; `redis`: shared by every instance. */
  store: z.enum(['file', 'redis']).optional(),
  /** The file store's file, relative to the config file (default `understudy-keys.json`). */
  file: z.string().min(1).optional(),
  /** The Redis store's URL (use ${env:...}: it may carry a password); default: `state.url` when `state.backend` is redis. */
  url: z.string().min(1).optional(),
  /** The Redis store's key prefix (default: `state.prefix`, else `understudy:`). */
  prefix: z.string().optional(),
  /** Every /v1 request needs a key even while none exists (default false: open until the first key is created). */
  required: z.boolean().optional(),
});

export type RawKeys = z.infer<typeof keysSchema>;

export type KeysConfig =
  | { store: 'file'; file: string; required: boolean }
  | { store: 'redis'; url: Secret; prefix: string; required: boolean };

export const DEFAULT_KEYS_FILE = 'understudy-keys.json';
export const DEFAULT_KEYS_PREFIX = 'understudy:';

export interface KeysProblem {
  path: (string | number)[];
  message: string;
}

/**
 * `keys:` as configured, or undefined when the file has none (`understudy start` and `understudy
 * keys` then use the file beside the config — `defaultKeys` — while the library and tests have no
 * key store unless given one). A relative `file` is relative to the config file's directory. A
 * redis store without its own `url` uses the `state:` Redis (`state.backend: redis`).
 */
export function resolveKeys(raw: RawKeys | undefined, configDir: string, problems: KeysProblem[], state?: RawState): KeysConfig | undefined {
  if (!raw) return undefined;
  const required = raw.required ?? false;
  if (raw.store === 'redis') {
    const shared = state?.backend === 'redis' ? { url: state.url ?? DEFAULT_REDIS_URL, prefix: state.prefix ?? DEFAULT_STATE_PREFIX } : undefined;
    if (raw.file !== undefined) problems.push({ path: ['keys', 'file'], message: 'file applies to store: file; a redis store has url and prefix' });
    const url = raw.url ?? shared?.url;
    if (url === undefined) problems.push({ path: ['keys', 'url'], message: 'a redis key store needs a url (e.g. ${env:UNDERSTUDY_REDIS_URL}), or state: { backend: redis } to share' });
    return { store: 'redis', url: new Secret(url ?? ''), prefix: raw.prefix ?? shared?.prefix ?? DEFAULT_KEYS_PREFIX, required };
  }
  for (const key of ['url', 'prefix'] as const) {
    if (raw[key] !== undefined) problems.push({ path: ['keys', key], message: `${key} applies to store: redis` });
  }
  const file = raw.file ?? DEFAULT_KEYS_FILE;
  return { store: 'file', file: isAbsolute(file) ? file : join(configDir, file), required };
}

/** The CLI's default when the file has no `keys:`: `understudy-keys.json` in `dir`, not required. */
export function defaultKeys(dir: string): KeysConfig {
  return { store: 'file', file: join(dir, DEFAULT_KEYS_FILE), required: false };
}
