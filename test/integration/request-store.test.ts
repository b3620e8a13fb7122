/**
 * The request log's store end to end: requests through a real gateway land in SQLite or
 * PostgreSQL (the real server CI runs) with every attempt, and can be queried back.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { chat, USER_MESSAGES, useHarness, type Harness } from './harness.js';

const start = useHarness();
const dir = mkdtempSync(join(tmpdir(), 'understudy-store-'));
const PG_URL = process.env['UNDERSTUDY_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schemas: string[] = [];

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

async function pgSchema(): Promise<string> {
  const schema = `understudy_it_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return schema;
}

const backends: [string, () => Promise<Record<string, unknown>>][] = [
  ['sqlite', async () => ({ backend: 'sqlite', path: join(dir, `${randomBytes(4).toString('hex')}.db`) })],
  ['postgres', async () => ({ backend: 'postgres', url: PG_URL, schema: await pgSchema() })],
];

describe.each(backends)('request log in %s', (_name, storeConfig) => {
  async function gateway(): Promise<Harness> {
    return start({
      simulators: { sim: { primary: { kind: 'status', status: 503 }, backup: { kind: 'ok', text: 'from the backup' } } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }] } },
      store: await storeConfig(),
    });
  }

  it('keeps every request with every attempt, queryable by route, fallback and target', async () => {
    const h = await gateway();
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expect(out.text).toBe('from the backup');
    const bad = await chat(h.client, 'non-stream', { model: 'no-such-route', messages: USER_MESSAGES });
    expect(bad.status).toBe(404);
    const log = h.gateway.requestLog;
    if (!log) throw new Error('no request log');
    await log.flush();
    const id = out.headers.get('x-request-id') ?? '';
    const stored = await log.store.get(id);
    expect(stored).toEqual(await h.record(id));
    expect(stored?.attempts.map((a) => [a.target, a.outcome, a.failure?.kind ?? null])).toEqual([
      ['sim/primary', 'failed', 'overloaded'],
      ['sim/primary', 'failed', 'overloaded'],
      ['sim/backup', 'ok', null],
    ]);
    const fellBack = await log.store.query({ fellBack: true });
    expect(fellBack.map((r) => r.requestId)).toEqual([id]);
    expect(fellBack[0]).toMatchObject({ route: 'chat', status: 200, servedBy: 'sim/backup', attempts: 3, fallbackReasons: 'overloaded' });
    expect((await log.store.query({ status: 'error' })).map((r) => r.status)).toEqual([404]);
    expect((await log.store.query({ target: 'sim/backup' })).map((r) => r.requestId)).toEqual([id]);
    expect(log.stats()).toMatchObject({ written: 2, dropped: 0, failed: 0 });
  });
});
