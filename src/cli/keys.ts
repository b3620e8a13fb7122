import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultKeys } from '../config/keys-config.js';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
import { BUDGET_PERIODS, type BudgetPeriod, type KeyBudget } from '../keys/key-record.js';
import { issueKey, keySpecProblems, parseExpiry, type KeySpec } from '../keys/key-spec.js';
import { KeyStoreError, type KeyStore } from '../keys/key-store.js';
import { keyView, type KeyView } from '../keys/key-view.js';
import { openKeyStore } from '../keys/open-store.js';
import type { Output } from './output.js';
import { UsageError } from './start.js';

export const KEYS_HELP = `usage:
  understudy keys create --config FILE --name NAME [--routes a,b] [--targets p/m,p/*] [--rpm N] [--tpm N]
                         [--expires 30d|ISO] [--budget AMOUNT/PERIOD] [--meta k=v ...]
  understudy keys list --config FILE [--json]
  understudy keys revoke --config FILE ID

The key is printed once, at creation; only its hash is stored (keys: in the config, else
understudy-keys.json beside it). A running gateway picks changes up within a second.`;

/** `understudy keys …`: create, list and revoke virtual keys. Returns the exit code. */
export async function keys(argv: string[], out: Output, env: Record<string, string | undefined> = process.env): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      name: { type: 'string' },
      routes: { type: 'string' },
      targets: { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      expires: { type: 'string' },
      budget: { type: 'string' },
      meta: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (command !== 'create' && command !== 'list' && command !== 'revoke') {
    out.error(command === undefined ? KEYS_HELP : `unknown keys command '${command}'\n\n${KEYS_HELP}`);
    return 2;
  }
  const path = values.config ?? env['UNDERSTUDY_CONFIG'] ?? (existsSync('understudy.yaml') ? 'understudy.yaml' : undefined);
  if (!path) throw new UsageError(`understudy keys ${command} needs the gateway's config: --config FILE.\n\n${KEYS_HELP}`);
  const config = loadConfigFile(path, { env });
  const store = await openKeyStore(config.keys ?? defaultKeys(dirname(resolve(path)))).catch((error: unknown) => {
    throw error instanceof KeyStoreError ? new UsageError(`Cannot open the key store: ${error.message}`) : error;
  });
  try {
    switch (command) {
      case 'create':
        return await create(store, config, values, out);
      case 'list':
        return await list(store, values.json === true, out);
      case 'revoke':
        return await revoke(store, rest[0], out);
    }
  } catch (error) {
    if (error instanceof KeyStoreError) {
      out.error(error.message);
      return 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

interface CreateOptions {
  name?: string | undefined;
  routes?: string | undefined;
  targets?: string | undefined;
  rpm?: string | undefined;
  tpm?: string | undefined;
  expires?: string | undefined;
  budget?: string | undefined;
  meta?: string[] | undefined;
}

async function create(store: KeyStore, config: Config, options: CreateOptions, out: Output): Promise<number> {
  if (!options.name) throw new UsageError(`understudy keys create needs --name NAME.\n\n${KEYS_HELP}`);
  const now = Date.now();
  const spec: KeySpec = { name: options.name, metadata: metadata(options.meta ?? []) };
  if (options.routes !== undefined) spec.routes = commaList(options.routes);
  if (options.targets !== undefined) spec.targets = commaList(options.targets);
  if (options.rpm !== undefined) spec.rpm = positive('--rpm', options.rpm);
  if (options.tpm !== undefined) spec.tpm = positive('--tpm', options.tpm);
  if (options.budget !== undefined) spec.budget = budget(options.budget);
  if (options.expires !== undefined) {
    const at = parseExpiry(options.expires, now);
    if (!at.ok) throw new UsageError(`--expires: ${at.problem}`);
    spec.expiresAt = at.at;
  }
  const problems = keySpecProblems(spec, { routes: Object.keys(config.routes), providers: Object.keys(config.providers) }, now);
  if (problems.length > 0) throw new UsageError(problems.map((p) => `invalid ${p.field}: ${p.message}`).join('\n'));
  const { plain, record } = issueKey(spec, now);
  await store.create(record);
  const view = keyView(record, now);
  out.info(`Created key ${view.id} ("${view.name}") in ${store.location}`);
  out.info(`  ${limits(view)}`);
  out.info('');
  out.info(`  ${plain}`);
  out.info('');
  out.info('This is the only time the key is shown: only its hash is stored. Clients send it as');
  out.info('Authorization: Bearer <key> (OpenAI SDKs) or x-api-key: <key> (Anthropic SDKs).');
  return 0;
}

async function list(store: KeyStore, json: boolean, out: Output): Promise<number> {
  const now = Date.now();
  const views = (await store.list()).map((r) => keyView(r, now));
  if (json) {
    out.info(JSON.stringify(views, null, 2));
    return 0;
  }
  if (views.length === 0) {
    out.info(`No keys in ${store.location}: the gateway is in open mode (unless keys.required is set).`);
    return 0;
  }
  const rows = [['ID', 'NAME', 'STATUS', 'ROUTES', 'TARGETS', 'RPM', 'TPM', 'EXPIRES', 'CREATED']];
  for (const v of views) {
    rows.push([v.id, v.name, v.status, v.routes.join(','), v.targets.join(','), String(v.rpm ?? '-'), String(v.tpm ?? '-'), v.expires_at ?? '-', v.created_at]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows) out.info(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  return 0;
}

async function revoke(store: KeyStore, id: string | undefined, out: Output): Promise<number> {
  if (!id) throw new UsageError(`understudy keys revoke needs the key's ID (see understudy keys list).\n\n${KEYS_HELP}`);
  const revoked = await store.revoke(id, new Date().toISOString());
  if (!revoked) {
    out.error(`No key ${id} in ${store.location} (understudy keys list shows the ids).`);
    return 1;
  }
  out.info(`Revoked key ${revoked.id} ("${revoked.name}") at ${revoked.revoked_at ?? ''}: requests with it now get 401.`);
  return 0;
}

function limits(view: KeyView): string {
  const parts = [`routes: ${view.routes.join(',')}`, `targets: ${view.targets.join(',')}`, `rpm: ${view.rpm ?? 'unlimited'}`, `tpm: ${view.tpm ?? 'unlimited'}`];
  if (view.expires_at) parts.push(`expires: ${view.expires_at}`);
  if (view.budget) parts.push(`budget: ${view.budget.amount}/${view.budget.period} (not enforced yet)`);
  return parts.join('   ');
}

function commaList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} expects a positive integer, got '${text}'`);
  return n;
}

function budget(text: string): KeyBudget {
  const [amount, period = 'month'] = text.split('/');
  const value = Number(amount);
  if (!(value >= 0) || amount === '' || !(BUDGET_PERIODS as readonly string[]).includes(period)) {
    throw new UsageError(`--budget expects AMOUNT/PERIOD with PERIOD one of ${BUDGET_PERIODS.join(', ')} (e.g. 50/month), got '${text}'`);
  }
  return { amount: value, period: period as BudgetPeriod };
}

function metadata(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--meta expects key=value, got '${pair}'`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
