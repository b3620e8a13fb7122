/**
 * Secrets never leave: every provider type holds a sentinel key; the whole fault matrix (every
 * simulator scenario kind, streaming and not, through both inbound APIs), upstreams that echo the
 * key back whole, a simulator that rejects every key, dead endpoints, the admin API and
 * `understudy check` all run; then every output channel is read and searched for the sentinels
 * and for any 8 consecutive characters of one.
 *
 * A new output channel (metrics, traces, the request log, a dashboard) is one more entry in
 * `channels` below: a name and a function that returns everything it emitted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { check } from '../../src/cli/check.js';
import { parseConfig } from '../../src/config/load.js';
import type { RequestRecord } from '../../src/engine/attempt.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import type { Scenario } from '../../src/simulator/scenario.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { ECHO_MODELS, startEchoUpstream, type EchoUpstream } from './echo-upstream.js';
import { closedPort, simulatorBaseUrl, type ProviderType } from './harness.js';
import { rawExchange, rawPost } from './raw-http.js';

/** Every scenario kind the simulator has: a new kind fails to compile until it is added here. */
const SCENARIOS: { [K in Scenario['kind']]: Extract<Scenario, { kind: K }> } = {
  ok: { kind: 'ok', chunks: 3 },
  slow_first_token: { kind: 'slow_first_token', delay_ms: 50 },
  rate_limit: { kind: 'rate_limit', retry_after_ms: 100 },
  insufficient_quota: { kind: 'insufficient_quota' },
  status: { kind: 'status', status: 500 },
  fail_first: { kind: 'fail_first', n: 1, failure: { kind: 'auth_error' }, then: { kind: 'ok' } },
  outage: { kind: 'outage', down_ms: 1e9, every_ms: 2e9, failure: { kind: 'auth_error' }, then: { kind: 'ok' } },
  reset: { kind: 'reset' },
  no_response: { kind: 'no_response' },
  cut: { kind: 'cut', after_chunks: 1 },
  stall: { kind: 'stall', after_chunks: 1 },
  malformed_chunk: { kind: 'malformed_chunk', after_chunks: 1 },
  missing_done: { kind: 'missing_done' },
  empty: { kind: 'empty' },
  context_window: { kind: 'context_window', limit: 1 },
  content_filter: { kind: 'content_filter' },
  garbage: { kind: 'garbage' },
  invalid_request: { kind: 'invalid_request' },
  unsupported_parameter: { kind: 'unsupported_parameter' },
  auth_error: { kind: 'auth_error' },
  midstream_error: { kind: 'midstream_error', after_chunks: 1, status: 401, message: 'key rejected' },
  tool_call: { kind: 'tool_call' },
  json: { kind: 'json' },
};

const TYPES: readonly ProviderType[] = ['openai', 'azure-openai', 'anthropic', 'gemini', 'openai-compatible'];
/** Characters that never occur in hex ids, so a window of a sentinel cannot match by chance. */
const ALPHABET = 'GHJKLMNPQRSTUVWXYZ';
const sentinel = (prefix: string): string => `${prefix}${Array.from({ length: 24 }, () => ALPHABET[Math.floor(Math.random() * ALPHABET.length)]).join('')}`;

/** Key shapes of each provider type (some caught by the generic patterns, some only as known secrets). */
const keyPrefix: Record<ProviderType, string> = {
  openai: 'sk-SENTINEL-',
  'openai-compatible': 'SENTINEL-compat-',
  'azure-openai': 'SENTINELazure',
  anthropic: 'sk-ant-SENTINEL-',
  gemini: 'AIzaSENTINEL',
};

const keys = new Map<string, string>();
const keyFor = (provider: string, type: ProviderType): string => {
  const key = keys.get(provider) ?? sentinel(keyPrefix[type]);
  keys.set(provider, key);
  return key;
};
const ADMIN_KEY = sentinel('adm-SENTINEL-');
const WRONG_ADMIN_KEY = sentinel('adm-WRONG-SENTINEL-');

/** Every 8-character window of every secret (the whole key included). */
function fragments(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [owner, key] of [...keys, ['admin', ADMIN_KEY], ['wrong admin', WRONG_ADMIN_KEY]] as const) {
    for (let i = 0; i + 8 <= key.length; i++) out.set(key.slice(i, i + 8), owner);
  }
  return out;
}

/** Where any fragment of a secret occurs in `text`, with some context. */
function findSecrets(text: string, windows: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [fragment, owner] of windows) {
    let at = text.indexOf(fragment);
    while (at >= 0 && found.length < 20) {
      found.push(`${owner}'s key fragment '${fragment}' in: …${text.slice(Math.max(0, at - 80), at + 80)}…`);
      at = text.indexOf(fragment, at + 1);
    }
  }
  return found;
}

let sim: Simulator;
let locked: Simulator;
let echo: EchoUpstream;
let gateway: Gateway;
let yaml = '';
const logged: string[] = [];
const records: RequestRecord[] = [];
const responses: string[] = [];
const adminResponses: string[] = [];
const checkOutput: string[] = [];
let metricsOutput = '';

/** Each output channel: what it emitted, as text. New channels are added here. */
const channels: { name: string; read: () => string }[] = [
  { name: 'gateway log (pino, every level)', read: () => logged.join('') },
  { name: 'HTTP responses to clients (status line, headers, body)', read: () => responses.join('\n') },
  { name: 'request records (onRecord)', read: () => records.map((r) => JSON.stringify(r)).join('\n') },
  { name: 'admin API responses', read: () => adminResponses.join('\n') },
  { name: 'understudy check output', read: () => checkOutput.join('\n') },
  { name: 'GET /metrics (whatever it answers)', read: () => metricsOutput },
];

function buildConfig(deadPort: number): Record<string, unknown> {
  const providers: Record<string, Record<string, unknown>> = {};
  for (const type of TYPES) {
    providers[`sim-${type}`] = { type, base_url: simulatorBaseUrl(sim, type), api_key: keyFor(`sim-${type}`, type) };
    providers[`locked-${type}`] = { type, base_url: simulatorBaseUrl(locked, type), api_key: keyFor(`locked-${type}`, type) };
    const echoBase = type === 'anthropic' || type === 'azure-openai' ? echo.origin : type === 'gemini' ? `${echo.origin}/v1beta` : `${echo.origin}/v1`;
    providers[`echo-${type}`] = { type, base_url: echoBase, api_key: keyFor(`echo-${type}`, type) };
    providers[`dead-${type}`] = { type, base_url: `http://127.0.0.1:${deadPort}${type === 'gemini' ? '/v1beta' : ''}`, api_key: keyFor(`dead-${type}`, type) };
  }
  return {
    server: { host: '127.0.0.1', port: 0, admin_key: ADMIN_KEY },
    logging: { level: 'trace' },
    defaults: {
      timeouts: { headers_ms: 300, first_token_ms: 300, stall_ms: 200, total_ms: 2_000 },
      retries: 0,
      deadline_ms: 3_000,
      // Keep every target in play: no cooldowns, circuits that (almost) never open.
      policy: { rate_limit_cooldown_ms: 0, quota_cooldown_ms: 0, misconfigured_cooldown_ms: 0, max_retry_wait_ms: 0 },
    },
    breaker: { window: 100_000, min_requests: 100_000, consecutive_failures: 100_000, misconfigured_cooldown_ms: 1 },
    providers,
    routes: { chat: { ladder: [{ targets: ['sim-openai/ok'] }, { targets: ['echo-openai/e401'] }, { static: 'Sorry.' }] } },
  };
}

/** Sends `jobs` with a few in flight at a time, keeping every raw response. */
async function sendAll(jobs: Job[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (!job) return;
      const res = await rawExchange(gateway.port, rawPost(job.path, job.body, job.headers ?? {}), { timeoutMs: 10_000 });
      responses.push(res.text);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

interface Job {
  path: string;
  body: string;
  headers?: Record<string, string>;
}

function requestsFor(model: string): Job[] {
  const messages = [{ role: 'user', content: 'Say something.' }];
  return [false, true].flatMap((stream) => [
    { path: '/v1/chat/completions', body: JSON.stringify({ model, stream, messages }) },
    { path: '/v1/messages', body: JSON.stringify({ model, stream, max_tokens: 64, messages }) },
  ]);
}

beforeAll(async () => {
  sim = createSimulator({ models: SCENARIOS });
  locked = createSimulator({ models: { ok: { kind: 'ok' } }, apiKey: 'not-the-configured-key' });
  await Promise.all([sim.listen(), locked.listen()]);
  echo = await startEchoUpstream();
  yaml = stringify(buildConfig(await closedPort()));
  const logger = createLogger('trace', { write: (line: string) => void logged.push(line) });
  gateway = await startGateway(parseConfig(yaml, 'leak.yaml', { env: {} }), { logger, onRecord: (r) => records.push(r) });

  const jobs = TYPES.flatMap((type) => [
    ...Object.keys(SCENARIOS).flatMap((kind) => requestsFor(`sim-${type}/${kind}`)),
    ...ECHO_MODELS.flatMap((model) => requestsFor(`echo-${type}/${model}`)),
    ...requestsFor(`locked-${type}/ok`),
    ...requestsFor(`dead-${type}/m`),
  ]);
  jobs.push(...requestsFor('chat'));
  // Fault headers with the right admin key (honoured) and a wrong one (refused): neither echoed.
  const fault = JSON.stringify({ kind: 'status', status: 503 });
  jobs.push({ ...requestsFor('chat')[0]!, headers: { 'x-understudy-fault': fault, 'x-understudy-admin-key': ADMIN_KEY } });
  jobs.push({ ...requestsFor('chat')[0]!, headers: { 'x-understudy-fault': fault, 'x-understudy-admin-key': WRONG_ADMIN_KEY } });
  await sendAll(jobs);
  for (const path of ['/v1/models', '/health', '/health/live', '/health/ready']) {
    responses.push((await rawExchange(gateway.port, `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`)).text);
  }

  metricsOutput = (await rawExchange(gateway.port, 'GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).text;

  // The admin API: add a fault, list them, and try a wrong key.
  const admin = async (method: string, key: string, body?: string): Promise<void> => {
    const head = `${method} /admin/faults HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\nconnection: close\r\n`;
    const req = body ? `${head}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}` : `${head}\r\n`;
    adminResponses.push((await rawExchange(gateway.port, req)).text);
  };
  await admin('POST', ADMIN_KEY, JSON.stringify({ target: 'sim-openai/ok', fault: { kind: 'latency', ms: 1 }, fraction: 0.5, duration_ms: 60_000 }));
  await admin('GET', ADMIN_KEY);
  await admin('GET', WRONG_ADMIN_KEY);

  // `understudy check`: the config as written, and broken configs with a key beside the mistake.
  const dir = mkdtempSync(join(tmpdir(), 'understudy-leak-'));
  const out = { info: (t: string) => void checkOutput.push(t), error: (t: string) => void checkOutput.push(t) };
  const files: Record<string, string> = {
    'ok.yaml': yaml,
    'typo-key.yaml': yaml.replace('api_key:', 'api_kee:'),
    'bad-url.yaml': yaml.replace(/base_url: http:\/\/127\.0\.0\.1:\d+\/v1\n/, 'base_url: not a url\n'),
    'key-as-number-of-retries.yaml': `${yaml}\nextra_top_level: ${keyFor('sim-openai', 'openai')}\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    checkOutput.push(`exit ${check(join(dir, name), out, {})}`);
  }
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all([sim?.close(), locked?.close(), echo?.close()]);
});

describe('secrets never leave the gateway', () => {
  it('the run reached every provider with its key (the test is not vacuous)', () => {
    const presented = [...sim.calls, ...locked.calls].map((c) => JSON.stringify(c.headers)).join('\n');
    for (const type of TYPES) {
      expect(presented).toContain(keyFor(`sim-${type}`, type));
      expect(presented).toContain(keyFor(`locked-${type}`, type));
    }
    const kinds = new Set(sim.calls.map((c) => c.outcome));
    for (const kind of Object.keys(SCENARIOS).filter((k) => k !== 'fail_first' && k !== 'outage')) expect(kinds).toContain(kind);
    expect(records.length).toBeGreaterThan(600);
    expect(logged.length).toBeGreaterThan(600);
    for (const c of channels) expect(c.read().length, c.name).toBeGreaterThan(0);
    // The echo upstream did put whole keys in front of the gateway, and the check really finds them.
    expect(findSecrets(`x${keyFor('echo-openai', 'openai').slice(-8)}y`, fragments())).toHaveLength(1);
    expect(checkOutput.filter((l) => l.startsWith('exit ')).sort()).toEqual(['exit 0', 'exit 1', 'exit 1', 'exit 1']);
  });

  it.each(channels)('$name: no sentinel key, whole or in part', ({ read }) => {
    expect(findSecrets(read(), fragments())).toEqual([]);
  });
});
