import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../engine/fake-clock.js';
import { MemoryStateStore } from '../state/memory.js';
import { KeyAccess } from './access.js';
import { FileKeyStore } from './file-key-store.js';
import type { KeyRecord } from './key-record.js';
import { issueKey, type KeySpec } from './key-spec.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function setup(required = false): Promise<{ access: KeyAccess; store: FileKeyStore; clock: FakeClock; add: (spec: KeySpec) => Promise<{ plain: string; record: KeyRecord }> }> {
  const dir = mkdtempSync(join(tmpdir(), 'understudy-access-'));
  dirs.push(dir);
  const clock = new FakeClock(Date.parse('2030-01-01T00:00:10.000Z'));
  const store = await FileKeyStore.open(join(dir, 'keys.json'), { recheckMs: 0 });
  const access = new KeyAccess(store, { required, state: new MemoryStateStore(), clock });
  const add = async (spec: KeySpec): Promise<{ plain: string; record: KeyRecord }> => {
    const issued = issueKey(spec, clock.now());
    await store.create(issued.record);
    return issued;
  };
  return { access, store, clock, add };
}

describe('KeyAccess', () => {
  it('is open with no keys: whatever a client sends is ignored', async () => {
    const { access } = await setup();
    expect(await access.identify(undefined)).toEqual({ type: 'open' });
    expect(await access.identify('sk-anything')).toEqual({ type: 'open' });
  });

  it('is closed with keys.required even when no key exists', async () => {
    const { access } = await setup(true);
    expect(await access.identify(undefined)).toEqual({ type: 'refused', reason: 'missing' });
  });

  it('closes once a key exists: missing, unknown and valid keys', async () => {
    const { access, add } = await setup();
    const { plain, record } = await add({ name: 'ci' });
    expect(await access.identify(undefined)).toEqual({ type: 'refused', reason: 'missing' });
    expect(await access.identify('sk-anything')).toEqual({ type: 'refused', reason: 'unknown' });
    expect(await access.identify(`${plain.slice(0, -1)}x`)).toEqual({ type: 'refused', reason: 'unknown' });
    expect(await access.identify(plain)).toEqual({ type: 'key', key: record });
  });

  it('refuses a key from its expiry on (injected clock) and a revoked one', async () => {
    const { access, add, store, clock } = await setup();
    const short = await add({ name: 'short', expiresAt: clock.now() + 60_000 });
    const other = await add({ name: 'other' });
    await clock.advance(59_999);
    expect((await access.identify(short.plain)).type).toBe('key');
    await clock.advance(1);
    expect(await access.identify(short.plain)).toMatchObject({ type: 'refused', reason: 'expired', key: { id: short.record.id } });
    await store.revoke(other.record.id, new Date(clock.now()).toISOString());
    expect(await access.identify(other.plain)).toMatchObject({ type: 'refused', reason: 'revoked', key: { id: other.record.id } });
  });

  it('stays closed after every key is revoked', async () => {
    const { access, add, store } = await setup();
    const { record } = await add({ name: 'only' });
    expect(await access.closed()).toBe(true);
    await store.revoke(record.id, new Date().toISOString());
    expect(await access.identify(undefined)).toEqual({ type: 'refused', reason: 'missing' });
  });

  it('takes rpm per request and tpm per token in one-minute windows', async () => {
    const { access, add, clock } = await setup();
    const { record } = await add({ name: 'limited', rpm: 2, tpm: 100 });
    expect(await access.take(record, 40)).toEqual({ ok: true });
    expect(await access.take(record, 70)).toMatchObject({ ok: false, limit: 'tpm', max: 100, tooLarge: false });
    expect(await access.take(record, 10)).toMatchObject({ ok: false, limit: 'rpm', max: 2 }); // the tpm refusal used a request
    const refused = await access.take(record, 10);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterMs).toBe(60_000 - (clock.now() % 60_000));
    await clock.advance(refused.ok ? 0 : refused.retryAfterMs);
    expect(await access.take(record, 60)).toEqual({ ok: true });
    expect(await access.take(record, 500)).toMatchObject({ ok: false, limit: 'tpm', tooLarge: true });
  });

  it('counts output learnt after the answer against tpm', async () => {
    const { access, add } = await setup();
    const { record } = await add({ name: 'limited', tpm: 100 });
    expect(await access.take(record, 50)).toEqual({ ok: true });
    access.addTokens(record, 45);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await access.take(record, 10)).toMatchObject({ ok: false, limit: 'tpm' });
  });
});
