import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { PostgresRequestLogStore } from './postgres-store.js';
import { describeRequestLogStoreContract } from './request-log-store.contract.js';

/** Against the real server CI runs (127.0.0.1:5432, database `test`): each store gets a schema of its own, dropped afterwards. */
const URL = process.env['UNDERSTUDY_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schemas: string[] = [];
const admin = new pg.Client({ connectionString: URL });

beforeAll(async () => {
  await admin.connect();
});
afterAll(async () => {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

describeRequestLogStoreContract('postgres', async () => {
  const schema = `understudy_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  await admin.query(`CREATE SCHEMA ${schema}`);
  return new PostgresRequestLogStore(URL, { schema });
});
