import { z } from 'zod';
import { ON_REDIS_DOWN, type OnRedisDown } from '../state/resilient.js';
import type { ResolveProblem } from './resolve.js';
import { Secret } from './secret.js';

/** `state:` in the file: where live state (breakers, budgets, balancing, quotas) is kept. See docs/scaling.md. */
export const stateSchema = z.strictObject({
  /** `memory` (default): this process only. `redis`: shared by every instance with the same url and prefix. */
  backend: z.enum(['memory', 'redis']).optional(),
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`; use `${env:...}` when it carries a password. */
  url: z.string().min(1).optional(),
  /** Put in front of every key (default `understudy:`). */
  prefix: z.string().min(1).optional(),
  /** Quota counters while Redis is unreachable: `local` (default) counts per instance, `refuse` refuses. */
  on_redis_down: z.enum(ON_REDIS_DOWN).optional(),
  /** A Redis command without a reply by then counts as Redis down (default 150). */
  command_timeout_ms: z.number().int().positive().max(10_000).optional(),
});

export type RawState = z.infer<typeof stateSchema>;

export type StateConfig =
  | { backend: 'memory' }
  | {
      backend: 'redis';
      /** May carry a password: held as a Secret. */
      url: Secret;
      prefix: string;
      onRedisDown: OnRedisDown;
      commandTimeoutMs: number;
    };

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_STATE_PREFIX = 'understudy:';
export const DEFAULT_COMMAND_TIMEOUT_MS = 150;

/** `state:` with defaults filled in; a bad URL is a problem at `state.url` (its text is never repeated: it may hold a password). */
export function resolveState(raw: RawState | undefined, problems: ResolveProblem[]): StateConfig {
  if ((raw?.backend ?? 'memory') === 'memory') {
    const redisOnly = (['url', 'prefix', 'on_redis_down', 'command_timeout_ms'] as const).filter((key) => raw?.[key] !== undefined);
    for (const key of redisOnly) problems.push({ path: ['state', key], message: `${key} applies to backend: redis only` });
    return { backend: 'memory' };
  }
  const url = raw?.url ?? DEFAULT_REDIS_URL;
  if (!isRedisUrl(url)) problems.push({ path: ['state', 'url'], message: 'expected a redis:// or rediss:// URL' });
  return {
    backend: 'redis',
    url: new Secret(url),
    prefix: raw?.prefix ?? DEFAULT_STATE_PREFIX,
    onRedisDown: raw?.on_redis_down ?? 'local',
    commandTimeoutMs: raw?.command_timeout_ms ?? DEFAULT_COMMAND_TIMEOUT_MS,
  };
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}
