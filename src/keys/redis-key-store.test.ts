import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { describeKeyStoreContract } from './key-store.contract.js';
import { RedisKeyStore } from './redis-key-store.js';

/** Runs against the Redis at REDIS_URL (default 127.0.0.1:6379), under a random prefix per case, deleted afterwards. */
const URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const admin = new Redis(URL, { maxRetriesPerRequest: 1 });
afterAll(async () => {
  await admin.quit();
});

async function deletePrefix(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
}

describeKeyStoreContract('redis', async () => {
  const prefix = `understudy-test:${randomBytes(6).toString('hex')}:`;
  return {
    open: async () => RedisKeyStore.connect(URL, prefix),
    dump: async () => {
      const keys = await admin.keys(`${prefix}*`);
      const parts: string[] = [...keys];
      for (const key of keys) {
        const type = await admin.type(key);
        parts.push(type === 'set' ? (await admin.smembers(key)).join(',') : ((await admin.get(key)) ?? ''));
      }
      return parts.join('\n');
    },
    cleanup: () => deletePrefix(prefix),
  };
});
