/**
 * The cases every KeyStore passes: the file store (file-key-store.test.ts) and Redis
 * (redis-key-store.test.ts), with this one file. Each case gets a fresh backing (a new file, a
 * new Redis prefix) and may open several handles on it, as the CLI and a gateway do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hashKey } from './key-material.js';
import type { KeyRecord } from './key-record.js';
import { issueKey } from './key-spec.js';
import { KeyConflictError, type KeyStore } from './key-store.js';

export interface KeyStoreBacking {
  /** A new handle on this case's backing; changes through one are seen by the others at once. */
  open(): Promise<KeyStore>;
  /** Everything stored, as text (to check no plain key is ever written). */
  dump(): Promise<string>;
  /** Removes the backing (the file, the prefix's Redis keys). */
  cleanup(): Promise<void>;
}

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

function issued(name: string, at = T0, extra: Partial<KeyRecord> = {}): { plain: string; record: KeyRecord } {
  const { plain, record } = issueKey({ name }, at);
  return { plain, record: { ...record, ...extra } };
}

export function describeKeyStoreContract(name: string, makeBacking: () => Promise<KeyStoreBacking>): void {
  describe(`KeyStore contract: ${name}`, () => {
    const backings: KeyStoreBacking[] = [];
    const handles: KeyStore[] = [];
    async function backing(): Promise<{ b: KeyStoreBacking; open: () => Promise<KeyStore> }> {
      const b = await makeBacking();
      backings.push(b);
      return {
        b,
        open: async () => {
          const s = await b.open();
          handles.push(s);
          return s;
        },
      };
    }
    afterEach(async () => {
      await Promise.all(handles.splice(0).map((s) => s.close()));
      await Promise.all(backings.splice(0).map((b) => b.cleanup()));
    });

    it('is empty at first', async () => {
      const { open } = await backing();
      const s = await open();
      expect(await s.hasKeys()).toBe(false);
      expect(await s.list()).toEqual([]);
      expect(await s.get('key_none')).toBeUndefined();
      expect(await s.findByHash(hashKey('usk_nothing'))).toBeUndefined();
    });

    it('stores a record and finds it by id and by the hash of its key', async () => {
      const { open } = await backing();
      const s = await open();
      const { plain, record } = issued('ci');
      await s.create(record);
      expect(await s.hasKeys()).toBe(true);
      expect(await s.get(record.id)).toEqual(record);
      expect(await s.findByHash(hashKey(plain))).toEqual(record);
      expect(await s.list()).toEqual([record]);
    });

    it('finds nothing for a hash that differs in one character', async () => {
      const { open } = await backing();
      const s = await open();
      const { plain, record } = issued('ci');
      await s.create(record);
      const hash = hashKey(plain);
      const last = hash.at(-1) === '0' ? '1' : '0';
      expect(await s.findByHash(`${hash.slice(0, -1)}${last}`)).toBeUndefined();
      expect(await s.findByHash(hash.slice(0, -1))).toBeUndefined();
    });

    it('round-trips every optional field exactly', async () => {
      const { open } = await backing();
      const s = await open();
      const { record } = issued('full', T0, {
        expires_at: '2030-02-01T00:00:00.000Z',
        routes: ['chat', 'embed'],
        targets: ['openai/*', 'local/llama3'],
        rpm: 60,
        tpm: 100_000,
        budget: { amount: 25.5, period: 'month' },
        metadata: { team: 'search', env: 'prod' },
      });
      await s.create(record);
      expect(await s.get(record.id)).toEqual(record);
    });

    it('never writes the plain key, only its hash', async () => {
      const { b, open } = await backing();
      const s = await open();
      const { plain, record } = issued('secret');
      await s.create(record);
      const dump = await b.dump();
      expect(dump).toContain(record.hash);
      expect(dump).not.toContain(plain);
      expect(dump).not.toContain(plain.slice(4));
    });

    it('refuses a second record with the same id or the same hash, and keeps the first', async () => {
      const { open } = await backing();
      const s = await open();
      const { record } = issued('first');
      await s.create(record);
      await expect(s.create({ ...issued('same id').record, id: record.id })).rejects.toBeInstanceOf(KeyConflictError);
      await expect(s.create({ ...issued('same hash').record, hash: record.hash })).rejects.toBeInstanceOf(KeyConflictError);
      expect(await s.list()).toEqual([record]);
    });

    it('revokes a key once: a second revocation keeps the first time', async () => {
      const { open } = await backing();
      const s = await open();
      const { plain, record } = issued('ci');
      await s.create(record);
      const first = await s.revoke(record.id, '2030-01-02T00:00:00.000Z');
      expect(first).toEqual({ ...record, revoked_at: '2030-01-02T00:00:00.000Z' });
      expect(await s.revoke(record.id, '2030-01-03T00:00:00.000Z')).toEqual(first);
      expect(await s.findByHash(hashKey(plain))).toEqual(first);
      expect(await s.hasKeys()).toBe(true); // a revoked key is still a key: the gateway stays closed
      expect(await s.revoke('key_unknown', '2030-01-02T00:00:00.000Z')).toBeUndefined();
    });

    it('lists oldest first', async () => {
      const { open } = await backing();
      const s = await open();
      const later = issued('later', T0 + 2_000).record;
      const earlier = issued('earlier', T0 + 1_000).record;
      await s.create(later);
      await s.create(earlier);
      expect((await s.list()).map((r) => r.name)).toEqual(['earlier', 'later']);
    });

    it('shows one handle the records another created and revoked', async () => {
      const { open } = await backing();
      const writer = await open();
      const reader = await open();
      expect(await reader.hasKeys()).toBe(false);
      const { plain, record } = issued('shared');
      await writer.create(record);
      expect(await reader.findByHash(hashKey(plain))).toEqual(record);
      await writer.revoke(record.id, '2030-01-02T00:00:00.000Z');
      expect((await reader.get(record.id))?.revoked_at).toBe('2030-01-02T00:00:00.000Z');
    });

    it('loses no record when two handles create at once', async () => {
      const { open } = await backing();
      const a = await open();
      const b = await open();
      const records = Array.from({ length: 6 }, (_, i) => issued(`k${i}`, T0 + i).record);
      await Promise.all(records.map((r, i) => (i % 2 === 0 ? a : b).create(r)));
      expect((await a.list()).map((r) => r.name)).toEqual(records.map((r) => r.name));
    });

    it('hands out copies: changing a read changes nothing stored', async () => {
      const { open } = await backing();
      const s = await open();
      const { record } = issued('ci', T0, { routes: ['chat'] });
      await s.create(record);
      const read = await s.get(record.id);
      read?.routes.push('other');
      if (read) read.metadata['x'] = 'y';
      expect(await s.get(record.id)).toEqual(record);
    });
  });
}
