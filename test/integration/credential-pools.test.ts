/**
 * Credential pools and rotation over real sockets: a simulator that checks its key, a gateway
 * started from a config file on disk (with `${file:...}` secrets) and watching it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import type { RequestRecord } from '../../src/engine/attempt.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { chat, expectServed, FAST_DEFAULTS, MODES, pollFor, USER_MESSAGES } from './harness.js';

const GOOD = 'sk-pool-good-0123456789';
const BAD = 'sk-pool-bad-9876543210';
const NEXT = 'sk-pool-next-5555555555';
const LISTED = 'sk-pool-listed-77777777';

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

interface Setup {
  gateway: Gateway;
  client: OpenAI;
  sim: Simulator;
  dir: string;
  configPath: string;
  records: RequestRecord[];
  logLines: Record<string, unknown>[];
  logText: () => string;
  /** Rewrites the config file with this provider entry. */
  writeConfig(provider: Record<string, unknown>): void;
  /** The key the simulator saw on its latest call. */
  lastKey(): string | undefined;
}

async function setup(provider: Record<string, unknown>, secrets: Record<string, string>, options: { simKey?: string; pollOnly?: boolean } = {}): Promise<Setup> {
  const sim = createSimulator({ models: { m: { kind: 'ok', text: 'pooled answer' } }, ...(options.simKey ? { apiKey: options.simKey } : {}) });
  await sim.listen();
  open.push(sim);
  const dir = mkdtempSync(join(tmpdir(), 'understudy-pools-'));
  open.push({ close: () => rmSync(dir, { recursive: true, force: true }) });
  for (const [name, value] of Object.entries(secrets)) writeFileSync(join(dir, name), `${value}\n`);
  const configPath = join(dir, 'understudy.yaml');
  const writeConfig = (p: Record<string, unknown>): void =>
    writeFileSync(
      configPath,
      stringify({
        server: { host: '127.0.0.1', port: 0 },
        defaults: FAST_DEFAULTS,
        providers: { sim: { type: 'openai', base_url: sim.url, ...p } },
        routes: { chat: { ladder: [{ targets: ['sim/m'] }] } },
      }),
    );
  writeConfig(provider);
  const raw: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void raw.push(line) });
  const records: RequestRecord[] = [];
  const gateway = await startGateway(loadConfigFile(configPath, { env: {} }), {
    logger,
    onRecord: (r) => records.push(r),
    watch: { path: configPath, env: {}, debounceMs: 20, pollIntervalMs: 50, pollOnly: options.pollOnly ?? false },
  });
  open.push(gateway);
  return {
    gateway,
    client: new OpenAI({ baseURL: gateway.url, apiKey: 'client', maxRetries: 0 }),
    sim,
    dir,
    configPath,
    records,
    get logLines() {
      return raw.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.msg !== 'request');
    },
    logText: () => raw.join(''),
    writeConfig,
    lastKey: () => sim.calls.at(-1)?.headers.authorization?.replace(/^Bearer /, ''),
  };
}

const ask = (s: Setup) => s.client.chat.completions.create({ model: 'chat', messages: USER_MESSAGES });

/** Sends requests until the simulator sees `key` (bounded): the swap happened without a restart. */
async function untilKeyUsed(s: Setup, key: string): Promise<void> {
  await pollFor(
    async () => {
      await ask(s).catch(() => undefined);
      return s.lastKey() === key;
    },
    5_000,
    `a request with the rotated key`,
  );
}

describe('credential pools', () => {
  it.each(MODES)('%s: a pool with a bad key and a good one serves every request; the bad key is cooled and skipped', async (mode) => {
    const s = await setup({ api_keys: ['${file:bad}', '${file:good}'] }, { bad: BAD, good: GOOD }, { simKey: GOOD });
    for (let i = 0; i < 4; i++) {
      const outcome = await chat(s.client, mode, { model: 'chat', messages: USER_MESSAGES });
      // One attempt as the engine sees it: no fallback, no retry, the target never cooled.
      expectServed(outcome, { servedBy: 'sim/m', model: 'm', text: 'pooled answer', attempts: 1, reason: undefined });
      expect(outcome.headers.get('x-understudy-skipped')).toBeNull();
    }
    expect(s.sim.calls.map((c) => [c.outcome, c.headers.authorization])).toEqual([
      ['unauthorized', `Bearer ${BAD}`],
      ...Array.from({ length: 4 }, () => ['ok', `Bearer ${GOOD}`]),
    ]);
    // The operator hears about the key by its position, never its value.
    expect(s.logLines).toContainEqual(expect.objectContaining({ msg: 'provider key cooled', provider: 'sim', key_index: 0, kind: 'upstream_auth', cooldown_ms: 5 * 60_000, keys_available: 1 }));
    expect(s.logText()).not.toContain(BAD);
    expect(s.logText()).not.toContain(GOOD);
  });

  it('when every key is refused the target fails as before, and no key reaches the client or the log', async () => {
    const s = await setup({ api_keys: [BAD, NEXT] }, {}, { simKey: GOOD });
    const error = await ask(s).then(
      () => undefined,
      (e: unknown) => e as { status: number; message: string },
    );
    expect(error?.status).toBeGreaterThanOrEqual(400);
    expect(s.sim.calls.map((c) => c.outcome)).toEqual(['unauthorized', 'unauthorized']);
    const record = await pollFor(() => s.records.at(-1), 3_000, 'the request record');
    expect(record.attempts.map((a) => a.failure?.kind)).toEqual(['upstream_auth']);
    for (const key of [BAD, NEXT]) {
      expect(JSON.stringify(error)).not.toContain(key);
      expect(error?.message).not.toContain(key);
      expect(JSON.stringify(record)).not.toContain(key);
      expect(s.logText()).not.toContain(key);
    }
  });
});

describe.each([
  ['fs.watch', false],
  ['stat polling', true],
])('credential rotation without a restart (%s)', (_name, pollOnly) => {
  it('editing a ${file:} secret: the next requests use the new key', async () => {
    const s = await setup({ api_key: '${file:openai-key}' }, { 'openai-key': GOOD }, { pollOnly });
    await ask(s);
    expect(s.lastKey()).toBe(GOOD);
    writeFileSync(join(s.dir, 'openai-key'), `${NEXT}\n`);
    await untilKeyUsed(s, NEXT);
    for (let i = 0; i < 3; i++) await ask(s);
    expect(s.sim.calls.slice(-3).map((c) => c.headers.authorization)).toEqual(Array.from({ length: 3 }, () => `Bearer ${NEXT}`));
    expect(s.logLines).toContainEqual(expect.objectContaining({ msg: 'provider credentials reloaded', providers: [{ provider: 'sim', keys: 1 }] }));
    expect(s.logText()).not.toContain(NEXT);
  });

  it('editing the config file’s api_keys list works the same; a broken edit keeps the old keys', async () => {
    const s = await setup({ api_keys: ['${file:k1}'] }, { k1: GOOD }, { pollOnly });
    s.writeConfig({ api_keys: [LISTED, '${file:k1}'] });
    await untilKeyUsed(s, LISTED);
    await ask(s);
    expect(s.lastKey()).toBe(GOOD); // round-robin over the new list

    // A broken edit: a secret file that does not exist. Logged, and the old keys stay.
    s.writeConfig({ api_keys: [NEXT, '${file:missing}'] });
    const logged = await pollFor(() => s.logLines.find((l) => l.msg === 'config change not applied: the file is invalid; provider credentials unchanged'), 5_000, 'the error log line');
    expect(logged.level).toBe(50);
    expect(String(logged.error)).toContain('missing not found');
    const before = s.sim.calls.length;
    for (let i = 0; i < 4; i++) await ask(s);
    expect(new Set(s.sim.calls.slice(before).map((c) => c.headers.authorization))).toEqual(new Set([`Bearer ${LISTED}`, `Bearer ${GOOD}`]));
    // Creating the missing file makes the edit valid: it applies.
    writeFileSync(join(s.dir, 'missing'), 'sk-pool-fixed-1111111111');
    await untilKeyUsed(s, 'sk-pool-fixed-1111111111');
    for (const key of [GOOD, NEXT, LISTED]) expect(s.logText()).not.toContain(key);
  });
});
