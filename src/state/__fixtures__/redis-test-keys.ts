import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * Tests against the real Redis (127.0.0.1:6379, or UNDERSTUDY_TEST_REDIS_URL): each store gets a
 * fresh random prefix, and the test deletes its own keys afterwards (never FLUSHALL: other test
 * runs may share this Redis).
 */
export const TEST_REDIS_URL = process.env.UNDERSTUDY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testPrefix(): string {
  return `understudy-test:${randomUUID()}:`;
}

/** A plain connection for a test's own checks and cleanup (close it with `quit`). */
export function adminConnection(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1, connectionName: 'understudy-test-admin' });
}

/** Deletes every key under `prefix` (SCAN, not KEYS); returns how many. */
export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 10 ms until it is true, failing after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
