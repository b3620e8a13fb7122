import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileKeyStore } from './file-key-store.js';
import { hashKey } from './key-material.js';
import { issueKey } from './key-spec.js';
import { describeKeyStoreContract } from './key-store.contract.js';
import { KeyStoreError } from './key-store.js';

function tempFile(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'understudy-keys-'));
  return { dir, file: join(dir, 'keys.json') };
}

describeKeyStoreContract('file', async () => {
  const { dir, file } = tempFile();
  return {
    // recheckMs 0: every lookup sees the file as it is (the interval itself is tested below).
    open: () => FileKeyStore.open(file, { recheckMs: 0 }),
    dump: async () => (existsSync(file) ? readFileSync(file, 'utf8') : ''),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('FileKeyStore', () => {
  it('writes the file with mode 0600, as { version, keys }, and leaves no temp or lock file behind', async () => {
    const { dir, file } = tempFile();
    const store = await FileKeyStore.open(file);
    const { record } = issueKey({ name: 'ci' }, Date.now());
    await store.create(record);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, keys: [record] });
    expect(readdirSync(dir)).toEqual(['keys.json']);
    await rm(dir, { recursive: true, force: true });
  });

  it('tightens a file created with looser permissions on its next write', async () => {
    const { dir, file } = tempFile();
    writeFileSync(file, JSON.stringify({ version: 1, keys: [] }), { mode: 0o644 });
    const store = await FileKeyStore.open(file);
    await store.create(issueKey({ name: 'ci' }, Date.now()).record);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await rm(dir, { recursive: true, force: true });
  });

  it('checks the file for changes at most once per re-check interval', async () => {
    const { dir, file } = tempFile();
    let now = 0;
    const reader = await FileKeyStore.open(file, { recheckMs: 1_000, now: () => now });
    const writer = await FileKeyStore.open(file);
    expect(await reader.hasKeys()).toBe(false);
    const { plain, record } = issueKey({ name: 'from the CLI' }, Date.now());
    await writer.create(record);
    now = 999;
    expect(await reader.findByHash(hashKey(plain))).toBeUndefined();
    now = 1_000;
    expect(await reader.findByHash(hashKey(plain))).toEqual(record);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to open a malformed file, naming the problem', async () => {
    const { dir, file } = tempFile();
    writeFileSync(file, '{"version":1,"keys":[{"id":"key_abcd","name":"x"}]}');
    await expect(FileKeyStore.open(file)).rejects.toThrow(KeyStoreError);
    await expect(FileKeyStore.open(file)).rejects.toThrow(/keys\[0\]/);
    writeFileSync(file, 'not json');
    await expect(FileKeyStore.open(file)).rejects.toThrow(/not JSON/);
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the keys it had when the file turns malformed at run time, and says so', async () => {
    const { dir, file } = tempFile();
    const errors: string[] = [];
    let now = 0;
    const store = await FileKeyStore.open(file, { recheckMs: 1_000, now: () => now, onError: (m) => errors.push(m) });
    const { plain, record } = issueKey({ name: 'ci' }, Date.now());
    await store.create(record);
    writeFileSync(file, '{ broken');
    now = 5_000;
    expect(await store.findByHash(hashKey(plain))).toEqual(record);
    expect(errors[0]).toContain('could not be re-read');
    await rm(dir, { recursive: true, force: true });
  });

  it('preserves fields it does not know when it rewrites the file', async () => {
    const { dir, file } = tempFile();
    const { record } = issueKey({ name: 'newer' }, Date.now());
    writeFileSync(file, JSON.stringify({ version: 1, keys: [{ ...record, from_the_future: { a: 1 } }] }));
    const store = await FileKeyStore.open(file);
    await store.create(issueKey({ name: 'another' }, Date.now()).record);
    const keys = (JSON.parse(readFileSync(file, 'utf8')) as { keys: Record<string, unknown>[] }).keys;
    expect(keys[0]?.['from_the_future']).toEqual({ a: 1 });
    await rm(dir, { recursive: true, force: true });
  });
});
