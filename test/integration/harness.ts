/**
 * Integration harness: real simulators and a real gateway on 127.0.0.1 port 0, driven by the
 * official `openai` SDK. Everything a test starts is closed in afterEach.
 */
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import OpenAI, { APIError } from 'openai';
import { afterEach, expect } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { RequestRecord } from '../../src/engine/attempt.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/server/gateway.js';
import { createSimulator, type Scenario, type Simulator } from '../../src/simulator/index.js';

export type Mode = 'stream' | 'non-stream';
export const MODES: readonly Mode[] = ['stream', 'non-stream'];

/** Provider wire types a harness provider can have (config `type:`). */
export type ProviderType = 'openai' | 'openai-compatible' | 'azure-openai' | 'anthropic' | 'gemini';

/** A provider backed by one of the harness's simulators (by name) or by a fixed URL. */
export interface ProviderSpec {
  /** Name of a simulator in `simulators`; defaults to the provider's own name. */
  simulator?: string;
  /** Instead of a simulator: a fixed base URL (e.g. a closed port). */
  base_url?: string;
  stream_upstream?: boolean;
  /**
   * The provider's wire type (default `openai`). A simulator-backed provider points at that
   * format's endpoint on the same simulator (`baseUrls.anthropic`, `baseUrls.gemini`, or the
   * origin for Azure's `/openai/deployments/…`) and gets a key (`sk-test-<name>-secret`) for
   * its format's auth slot.
   */
  type?: ProviderType;
}

/** The base URL a provider of `type` uses to reach `sim`. */
export function simulatorBaseUrl(sim: Simulator, type: ProviderType): string {
  switch (type) {
    case 'openai':
    case 'openai-compatible':
      return sim.baseUrls.openai;
    case 'anthropic':
      return sim.baseUrls.anthropic;
    case 'gemini':
      return sim.baseUrls.gemini;
    case 'azure-openai':
      return sim.origin;
  }
}

export interface HarnessOptions {
  /** simulator name → model → scenario. Each simulator is also a provider of the same name. */
  simulators: Record<string, Record<string, Scenario>>;
  /** Extra providers (aliases of a simulator with other options, or dead endpoints). */
  providers?: Record<string, ProviderSpec>;
  /** Routes exactly as written in YAML (`ladder`, `timeouts`, `policy`, `deadline_ms`, ...). */
  routes: Record<string, unknown>;
  /** `defaults:` as written in YAML; merged over the harness's fast defaults. */
  defaults?: Record<string, unknown>;
  /** Extra `server:` keys (e.g. `body_limit_bytes`). */
  server?: Record<string, unknown>;
  /** `breaker:` as written in YAML (circuit breaker thresholds). */
  breaker?: Record<string, unknown>;
  /** `store:` as written in YAML (the request log); none unless given. */
  store?: Record<string, unknown>;
  /** `faults:` as written in YAML (game-day fault rules). */
  faults?: unknown[];
  /** Extra keys merged into a provider's YAML entry (e.g. `models:` capabilities and request overrides). */
  providerOptions?: Record<string, Record<string, unknown>>;
  /** Options for `startGateway` (e.g. an injected `random`); records are still collected. */
  gatewayOptions?: Omit<GatewayOptions, 'onRecord'>;
}

/**
 * Small time scales so the suite runs fast: a silent target is given up on within a few hundred
 * milliseconds, backoff is a few ms, and a Retry-After above 200 ms moves on.
 */
export const FAST_DEFAULTS = {
  timeouts: { headers_ms: 400, first_token_ms: 400, stall_ms: 300, total_ms: 5_000 },
  retries: 1,
  deadline_ms: 10_000,
  policy: { max_retry_wait_ms: 200, backoff_base_ms: 10, backoff_max_ms: 40 },
};

export interface Harness {
  gateway: Gateway;
  /** The gateway's origin (`http://127.0.0.1:PORT`): the base URL of Anthropic SDK clients. */
  origin: string;
  client: OpenAI;
  sims: Record<string, Simulator>;
  /** The one simulator when there is exactly one. */
  sim: Simulator;
  records: RequestRecord[];
  /** The YAML the gateway was started from. */
  yaml: string;
  /** Waits (bounded) until the request record with this id, or the `n`-th record, exists. */
  record(requestId?: string | null, timeoutMs?: number): Promise<RequestRecord>;
}

interface Closable {
  close(): Promise<void>;
}

/** Registers afterEach cleanup in the calling test file and returns `start`. */
export function useHarness(): (options: HarnessOptions) => Promise<Harness> {
  const open: Closable[] = [];
  afterEach(async () => {
    const all = open.splice(0).reverse();
    for (const c of all) await c.close().catch(() => undefined);
  });
  return async (options) => {
    const sims: Record<string, Simulator> = {};
    for (const [name, models] of Object.entries(options.simulators)) {
      const sim = createSimulator({ models });
      open.push(sim);
      await sim.listen();
      sims[name] = sim;
    }
    const providers: Record<string, Record<string, unknown>> = {};
    for (const [name, sim] of Object.entries(sims)) providers[name] = { type: 'openai', base_url: sim.url, api_key: `sk-test-${name}-secret` };
    for (const [name, spec] of Object.entries(options.providers ?? {})) {
      const sim = sims[spec.simulator ?? name];
      const baseUrl = spec.base_url ?? (sim ? simulatorBaseUrl(sim, spec.type ?? 'openai') : undefined);
      if (!baseUrl) throw new Error(`provider ${name}: no simulator '${spec.simulator ?? name}'`);
      providers[name] = {
        type: spec.type ?? 'openai',
        base_url: baseUrl,
        ...(spec.type !== undefined ? { api_key: `sk-test-${name}-secret` } : {}),
        ...(spec.stream_upstream !== undefined ? { stream_upstream: spec.stream_upstream } : {}),
      };
    }
    for (const [name, extra] of Object.entries(options.providerOptions ?? {})) providers[name] = { ...providers[name], ...extra };
    const raw = {
      server: { host: '127.0.0.1', port: 0, ...(options.server ?? {}) },
      logging: { level: 'silent' },
      defaults: mergeDefaults(FAST_DEFAULTS, options.defaults ?? {}),
      ...(options.breaker ? { breaker: options.breaker } : {}),
      ...(options.store ? { store: options.store } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
      providers,
      routes: options.routes,
    };
    const yaml = stringify(raw);
    const config = parseConfig(yaml, 'integration-test.yaml', { env: {} });
    const records: RequestRecord[] = [];
    const gateway = await startGateway(config, { ...options.gatewayOptions, onRecord: (r) => records.push(r) });
    open.push(gateway);
    const client = new OpenAI({ baseURL: gateway.url, apiKey: 'test', maxRetries: 0, timeout: 20_000 });
    const only = Object.values(sims);
    return {
      gateway,
      origin: gateway.url.replace(/\/v1$/, ''),
      client,
      sims,
      get sim(): Simulator {
        if (only.length !== 1) throw new Error('harness has several simulators; use sims[name]');
        return only[0] as Simulator;
      },
      records,
      yaml,
      record: (requestId, timeoutMs = 3_000) =>
        pollFor(() => (requestId ? records.find((r) => r.requestId === requestId) : records.at(-1)), timeoutMs, `request record ${requestId ?? '(last)'}`),
    };
  };
}

function mergeDefaults(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? { ...b, ...v } : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Polls `read` until it returns a value (or true), failing after `timeoutMs`. No fixed sleeps. */
export async function pollFor<T>(read: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const USER_MESSAGES = [{ role: 'user' as const, content: 'Say something helpful.' }];

/** What a client saw for one chat request, stream or not. */
export interface Outcome {
  mode: Mode;
  /** HTTP status of the response (the error's status when the request failed before any output). */
  status: number | undefined;
  headers: Headers;
  /** Body `model` (non-stream) or the model named by the stream's chunks (all must agree). */
  model: string | undefined;
  /** Assistant text: the message content, or the assembled stream deltas. */
  text: string;
  /** Set when the request failed before a response (an HTTP error status). */
  error?: APIError;
  /** Set when a stream started but ended with an error event (SDK raised inside `for await`). */
  streamError?: unknown;
  /** The stream ended normally (the `for await` loop finished without throwing). */
  streamEnded: boolean;
  chunks: OpenAI.Chat.Completions.ChatCompletionChunk[];
  completion?: OpenAI.Chat.Completions.ChatCompletion;
  /** Wall time from sending the request to the end of the body (or the error). */
  ms: number;
}

export type ChatBody = Omit<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, 'stream'> & Record<string, unknown>;

/** Sends one chat request through the SDK, in `mode`, and records everything the client saw. */
export async function chat(
  client: OpenAI,
  mode: Mode,
  body: ChatBody,
  options: { signal?: AbortSignal; headers?: Record<string, string>; onChunk?: (chunk: OpenAI.Chat.Completions.ChatCompletionChunk) => void } = {},
): Promise<Outcome> {
  const started = performance.now();
  const requestOptions = { ...(options.signal ? { signal: options.signal } : {}), ...(options.headers ? { headers: options.headers } : {}) };
  if (mode === 'non-stream') {
    try {
      const { data, response } = await client.chat.completions
        .create({ ...body, stream: false } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, requestOptions)
        .withResponse();
      return {
        mode,
        status: response.status,
        headers: response.headers,
        model: data.model,
        text: data.choices[0]?.message.content ?? '',
        completion: data,
        streamEnded: true,
        chunks: [],
        ms: performance.now() - started,
      };
    } catch (error) {
      return failed(mode, error, started);
    }
  }
  let response: Response;
  let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
  try {
    const result = await client.chat.completions
      .create({ ...body, stream: true } as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming, requestOptions)
      .withResponse();
    response = result.response;
    stream = result.data;
  } catch (error) {
    return failed(mode, error, started);
  }
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  let text = '';
  let streamError: unknown;
  let streamEnded = false;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta?.content ?? '';
      options.onChunk?.(chunk);
    }
    streamEnded = true;
  } catch (error) {
    streamError = error;
  }
  const models = new Set(chunks.map((c) => c.model));
  if (models.size > 1) throw new Error(`stream chunks name several models: ${[...models].join(', ')}`);
  const outcome: Outcome = {
    mode,
    status: response.status,
    headers: response.headers,
    model: chunks[0]?.model,
    text,
    streamEnded,
    chunks,
    ms: performance.now() - started,
  };
  if (streamError !== undefined) outcome.streamError = streamError;
  return outcome;
}

function failed(mode: Mode, error: unknown, started: number): Outcome {
  if (!(error instanceof APIError)) throw error;
  return {
    mode,
    status: error.status,
    headers: error.headers ?? new Headers(),
    model: undefined,
    text: '',
    error,
    streamEnded: false,
    chunks: [],
    ms: performance.now() - started,
  };
}

export interface ServedExpectation {
  servedBy: string;
  /** The model id the upstream reported (the body's `model`). */
  model: string;
  text: string;
  attempts: number;
  /** Comma-separated fallback reasons, or undefined for none (header absent). */
  reason: string | undefined;
  route?: string;
  degraded?: boolean;
}

/** The request succeeded completely, served as expected: headers, body model and the full text. */
export function expectServed(outcome: Outcome, want: ServedExpectation): void {
  const where = `${outcome.mode} ${JSON.stringify({ status: outcome.status, error: outcome.error?.message, streamError: String(outcome.streamError ?? '') })}`;
  expect(outcome.error, where).toBeUndefined();
  expect(outcome.streamError, where).toBeUndefined();
  expect(outcome.status, where).toBe(200);
  expect(outcome.streamEnded, where).toBe(true);
  expect(outcome.headers.get('x-understudy-served-by'), where).toBe(want.servedBy);
  expect(outcome.model, where).toBe(want.model);
  expect(outcome.text, where).toBe(want.text);
  expect(outcome.headers.get('x-understudy-attempts'), where).toBe(String(want.attempts));
  expect(outcome.headers.get('x-understudy-fallback-reason') ?? undefined, where).toBe(want.reason);
  if (want.route !== undefined) expect(outcome.headers.get('x-understudy-route'), where).toBe(want.route);
  expect(outcome.headers.get('x-understudy-degraded') ?? undefined, where).toBe(want.degraded ? 'true' : undefined);
  if (outcome.mode === 'stream') {
    // A completed stream carries a finish_reason (never a truncated answer ending as success).
    expect(outcome.chunks.some((c) => c.choices.some((ch) => ch.finish_reason)), where).toBe(true);
  } else {
    expect(outcome.completion?.choices[0]?.finish_reason, where).toBeTruthy();
  }
}

/** A stream that had started (some text arrived) and then ended with an error the SDK raised. */
export function expectBrokenStream(outcome: Outcome, servedBy: string, partialOf: string): void {
  expect(outcome.error).toBeUndefined();
  expect(outcome.status).toBe(200);
  expect(outcome.headers.get('x-understudy-served-by')).toBe(servedBy);
  expect(outcome.streamEnded).toBe(false);
  expect(outcome.streamError).toBeInstanceOf(APIError);
  expect(outcome.text.length).toBeGreaterThan(0);
  expect(outcome.text.length).toBeLessThan(partialOf.length);
  expect(partialOf.startsWith(outcome.text)).toBe(true);
}

/** The client got an HTTP error (before any output) in OpenAI's error shape. */
export function expectHttpError(outcome: Outcome, status: number, code: string | null): APIError {
  expect(outcome.error, `${outcome.mode}: expected HTTP ${status}, got ${outcome.status} "${outcome.text}"`).toBeInstanceOf(APIError);
  const error = outcome.error as APIError;
  expect(error.status).toBe(status);
  expect(error.code ?? null).toBe(code);
  return error;
}
