/**
 * Property-based fuzzing of both inbound APIs over real sockets, against the built gateway in a
 * child process in front of the simulator: malformed JSON, wrong types, huge strings, deep
 * nesting, invalid UTF-8, unknown fields, hostile headers, valid-ish requests, and streaming
 * clients that hang up at random points. Always a 4xx in the API's own error shape (or a 200
 * for a valid request), never a 5xx, never a crash; each request is recorded exactly once; and
 * the heap returns to its baseline afterwards.
 *
 * Random seed per run, printed on failure; reproduce with UNDERSTUDY_FUZZ_SEED=<seed>, and scale
 * the number of runs with UNDERSTUDY_FUZZ_SCALE (default 1). Needs `npm run build` (as `npm test` does).
 */
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { FAST_DEFAULTS, pollFor } from '../integration/harness.js';
import { rawBody, rawExchange, rawPost, type RawExchange } from '../integration/raw-http.js';
import { API_PATHS, FUZZ_LIMITS, bigCase, disconnectingStream, smallCase, type Api, type FuzzCase } from './arbitraries.js';
import { ChildGateway } from './child-gateway.js';

const SEED = process.env.UNDERSTUDY_FUZZ_SEED ? Number(process.env.UNDERSTUDY_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const SCALE = Number(process.env.UNDERSTUDY_FUZZ_SCALE ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
/** Per property: room for a scaled-up run. */
const TIMEOUT_MS = Math.max(20_000, 20_000 * SCALE);
/** heapUsed may end at most this far above its baseline (bytes). */
const HEAP_TOLERANCE = 3 * 1024 * 1024;

let sim: Simulator;
let gateway: ChildGateway;
let baselineHeap = 0;
let sequence = 0;
const started = performance.now();

beforeAll(async () => {
  sim = createSimulator({ models: { m: { kind: 'ok', text: 'a fuzzed request was answered', chunks: 6, chunk_delay_ms: 2 } } });
  await sim.listen();
  const yaml = stringify({
    server: { host: '127.0.0.1', port: 0, body_limit_bytes: FUZZ_LIMITS.bodyLimitBytes, max_json_depth: FUZZ_LIMITS.maxJsonDepth, max_messages: FUZZ_LIMITS.maxMessages },
    logging: { level: 'info' },
    // Session affinity keeps one mapping per distinct `user` / session for its TTL (30 min): memory
    // that is meant to grow with random users, so it is off here to see the request path alone.
    defaults: { ...FAST_DEFAULTS, affinity: { enabled: false } },
    providers: {
      sim: { type: 'openai', base_url: sim.url, api_key: 'sk-fuzz-openai' },
      'sim-anthropic': { type: 'anthropic', base_url: sim.baseUrls.anthropic, api_key: 'sk-ant-fuzz' },
      'sim-gemini': { type: 'gemini', base_url: sim.baseUrls.gemini, api_key: 'fuzz-gemini-key' },
    },
    routes: { chat: { ladder: [{ targets: 'sim/m' }] }, claude: { ladder: [{ targets: 'sim-anthropic/m' }] } },
  });
  gateway = await ChildGateway.start(yaml);
  // Warm up every path (JIT, lazily built targets, pools) with a fixed seed, then take the baseline.
  const warmUp: Sent[] = [];
  for (const api of ['openai', 'anthropic'] as const) {
    for (const c of fc.sample(smallCase(api), { numRuns: 150, seed: 1 })) warmUp.push(await send(c));
    for (const c of fc.sample(bigCase(api), { numRuns: 2, seed: 1 })) warmUp.push(await send(c));
    for (const c of fc.sample(disconnectingStream(api), { numRuns: 30, seed: 1 })) warmUp.push(await send(c));
  }
  await settle();
  await gateway.forget(warmUp.map((s) => s.id));
  baselineHeap = await gateway.heapUsed();
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await sim?.close();
  console.info(`fuzz: seed ${SEED}, ${sequence} requests in ${Math.round(performance.now() - started)} ms`);
});

interface Sent {
  id: string;
  res: RawExchange;
}

async function send(c: FuzzCase): Promise<Sent> {
  const id = `fuzz-${++sequence}`;
  const options = c.hangUp ? ('bytes' in c.hangUp ? { hangUpAfterBytes: c.hangUp.bytes } : { hangUpAfterMs: c.hangUp.ms }) : {};
  const res = await rawExchange(gateway.port, rawPost(API_PATHS[c.api], c.body, { ...c.headers, 'x-request-id': id }), { timeoutMs: 15_000, ...options });
  return { id, res };
}

/** Waits until no upstream call is open (hung-up streams released theirs) and the gateway answers. */
async function settle(): Promise<void> {
  await pollFor(() => sim.openConnections() === 0, 3_000, 'every upstream call to end');
  const health = await rawExchange(gateway.port, 'GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  expect(health.status, `the gateway stopped answering /health:\n${gateway.errors}`).toBe(200);
  expect(gateway.alive).toBe(true);
}

function head(res: RawExchange): { headers: Record<string, string>; body: string } {
  const lines = res.text.slice(0, Math.max(0, res.text.indexOf('\r\n\r\n'))).split('\r\n').slice(1);
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { headers, body: Buffer.from(rawBody(res.text), 'latin1').toString('utf8') };
}

/** The API's own error shape, and nothing else. */
function expectErrorShape(api: Api, body: unknown, where: string): void {
  if (api === 'openai') {
    const { error } = body as { error: Record<string, unknown> };
    expect(Object.keys(body as object), where).toEqual(['error']);
    expect(typeof error['message'] === 'string' && error['message'].length > 0, where).toBe(true);
    expect(typeof error['type'], where).toBe('string');
    expect(error['param'] === null || typeof error['param'] === 'string', where).toBe(true);
    expect(error['code'] === null || typeof error['code'] === 'string', where).toBe(true);
  } else {
    const b = body as { type: string; error: { type: unknown; message: unknown } };
    expect(b.type, where).toBe('error');
    expect(typeof b.error.type, where).toBe('string');
    expect(typeof b.error.message === 'string' && b.error.message.length > 0, where).toBe(true);
  }
}

/** What a complete (not hung-up) exchange must look like. */
function judge(c: FuzzCase, { id, res }: Sent): void {
  const where = `got ${JSON.stringify(res.text.slice(0, 600))} (closed by server: ${res.closedByServer}${res.error ? `, ${res.error}` : ''}, after ${Math.round(res.closedAfterMs)} ms) for ${String(fc.stringify(c))}\n${gateway.errors}`;
  expect(res.status, where).toBeDefined();
  const status = res.status ?? 0;
  const { headers, body } = head(res);
  expect(headers['x-request-id'], where).toBe(id);
  if (c.expect === 'client_error' || status !== 200) {
    expect(status >= 400 && status < 500, `expected a 4xx, got ${status}: ${where}`).toBe(true);
    expect(headers['content-type'], where).toMatch(/^application\/json/);
    expectErrorShape(c.api, JSON.parse(body), where);
    return;
  }
  if (headers['content-type']?.startsWith('text/event-stream')) {
    expect(body, where).toMatch(c.api === 'openai' ? /data: \[DONE\]\n\n$/ : /event: message_stop\n/);
    return;
  }
  const answer = JSON.parse(body) as { object?: string; type?: string };
  expect(c.api === 'openai' ? answer.object : answer.type, where).toBe(c.api === 'openai' ? 'chat.completion' : 'message');
}

/** Every request the gateway answered is recorded exactly once; one it never answered, at most once. */
async function expectRecordedOnce(sent: readonly Sent[]): Promise<void> {
  const answered = sent.filter((s) => s.res.status !== undefined).map((s) => s.id);
  await pollFor(async () => (await gateway.recordCounts(answered)).every((n) => n >= 1), 5_000, 'a record of every answered request');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const ids = sent.map((s) => s.id);
  const counts = await gateway.recordCounts(ids);
  const wrong = ids.flatMap((id, i) => ((counts[i] ?? 0) > 1 || (answered.includes(id) && counts[i] !== 1) ? [`${id}: ${counts[i]}`] : []));
  expect(wrong, 'requests not recorded exactly once').toEqual([]);
  await gateway.forget(ids);
}

/** Runs a property with the run's seed; a failure says how to reproduce it. */
async function fuzz(arbitrary: fc.Arbitrary<FuzzCase>, numRuns: number, check: (c: FuzzCase, sent: Sent) => void): Promise<void> {
  const sent: Sent[] = [];
  const property = fc.asyncProperty(arbitrary, async (c) => {
    const s = await send(c);
    sent.push(s);
    check(c, s);
  });
  try {
    await fc.assert(property, { seed: SEED, numRuns, endOnFailure: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error && error.cause instanceof Error ? `\n\nCause: ${error.cause.message}` : '';
    throw new Error(`${message}${cause}\n\nReproduce: UNDERSTUDY_FUZZ_SEED=${SEED} npx vitest run test/fuzz/inbound-apis.test.ts`);
  }
  await settle();
  await expectRecordedOnce(sent);
}

describe.each(['openai', 'anthropic'] as const)('%s inbound API under fuzzing', (api) => {
  it('hostile and valid-ish requests: a 4xx in the API error shape or a 200, never a 5xx', async () => {
    await fuzz(smallCase(api), runs(150), judge);
  }, TIMEOUT_MS);

  it('megabyte strings and thousands of messages, on both sides of the limits', async () => {
    await fuzz(bigCase(api), runs(8), judge);
  }, TIMEOUT_MS);

  it('streaming clients that hang up at random points: the gateway stays healthy, each request recorded once', async () => {
    // A client that stayed until the end (the server closed the connection) saw a whole answer.
    await fuzz(disconnectingStream(api), runs(50), (c, s) => {
      if (s.res.closedByServer) judge(c, s);
    });
  }, TIMEOUT_MS);
});

describe('memory after the fuzz run', () => {
  it('heapUsed returns to within a tolerance of the warmed-up baseline', async () => {
    await settle();
    const after = await gateway.heapUsed();
    console.info(`fuzz heap: baseline ${(baselineHeap / 1048576).toFixed(1)} MB, after ${(after / 1048576).toFixed(1)} MB (${sequence} requests)`);
    expect(after - baselineHeap).toBeLessThan(HEAP_TOLERANCE);
  });
});
