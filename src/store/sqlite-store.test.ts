import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRequestLogStoreContract, record } from './request-log-store.contract.js';
import { SqliteRequestLogStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'understudy-log-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeRequestLogStoreContract('sqlite', async () => new SqliteRequestLogStore(join(dir, `log-${n++}.db`)));

describe('SqliteRequestLogStore', () => {
  it('creates the file (and its directory) on first start, and keeps records across reopening', async () => {
    const path = join(dir, 'nested', 'deeper', 'requests.db');
    const first = new SqliteRequestLogStore(path);
    await first.write([record('kept', 1)]);
    await first.close();
    const second = new SqliteRequestLogStore(path);
    expect((await second.get('kept'))?.requestId).toBe('kept');
    await second.close();
  });
});
