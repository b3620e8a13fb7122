import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../canonical/chat.js';
import { UpstreamFailure, isUpstreamFailure, type FailureDetails } from '../../canonical/failure.js';
import type { ProviderSpec } from '../registry.js';
import type { UpstreamCall, UpstreamEvent } from '../target.js';
import { RECORDINGS, assemble, chunksOf, fixture } from './__fixtures__/conformance.js';
import { GEMINI_DEFAULT_CAPABILITIES, createGeminiProvider } from './adapter.js';

const KEY = 'AIzaSyTESTKEYnotREAL_0123456789abcdefg';
const SSE = fixture(`${RECORDINGS}/Chats_Tests_sendMessage_Google_AI_with_text_stream.0.sse`);
const RESPONSE = (JSON.parse(fixture(`${RECORDINGS}/Chats_Tests_sendMessage_Google_AI_with_text.0.response.json`)) as { body: unknown }).body;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let seen: Seen[];
let closedEarly: number;
const dispatcher = new Agent({ keepAliveTimeout: 1000 });

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown> });
      res.on('close', () => {
        if (!res.writableFinished) closedEarly++;
      });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta`;
});

afterAll(async () => {
  await dispatcher.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  closedEarly = 0;
});

const spec = (overrides: Partial<ProviderSpec> = {}): ProviderSpec => ({
  name: 'google',
  kind: 'gemini',
  baseUrl: `${baseUrl}/`,
  apiKey: KEY,
  headers: { 'x-team': 'a' },
  streamUpstream: false,
  models: {},
  ...overrides,
});
const target = (overrides: Partial<ProviderSpec> = {}, model = 'gemini-2.0-flash') =>
  createGeminiProvider(spec(overrides), { dispatcher, now: () => 1_700_000_000_000 }).target(model);
const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'support', messages: [{ role: 'user', content: 'why is the sky blue?' }], ...extra });
const signal = () => new AbortController().signal;

/** Writes a body in small pieces with pauses, as a real upstream would. */
function streamBody(status: number, contentType: string, text: string, piece = 50): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType, 'x-goog-request-id': 'g-1' });
    let at = 0;
    const next = (): void => {
      if (at >= text.length) return void res.end();
      res.write(text.slice(at, (at += piece)));
      setTimeout(next, 1);
    };
    next();
  };
}
const json = (status: number, body: unknown): Handler => streamBody(status, 'application/json; charset=UTF-8', JSON.stringify(body), 1 << 20);

async function drain(call: UpstreamCall): Promise<UpstreamEvent[]> {
  const events: UpstreamEvent[] = [];
  for await (const event of call.events) events.push(event);
  return events;
}

async function failureOf(work: () => Promise<unknown>): Promise<FailureDetails> {
  try {
    await work();
  } catch (error) {
    if (isUpstreamFailure(error)) return error.details;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('Gemini adapter over a real socket', () => {
  it('streams from :streamGenerateContent?alt=sse with the key in x-goog-api-key only', async () => {
    handler = streamBody(200, 'text/event-stream', SSE, 97);
    const call = await target().call(request({ stream: true, user: 'u-1' }), { signal: signal(), stream: true });
    const chunks = chunksOf(await drain(call));

    const [sent] = seen;
    expect(sent?.method).toBe('POST');
    expect(sent?.url).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    expect(sent?.url).not.toContain(KEY);
    expect(sent?.url).not.toContain('key=');
    expect(sent?.headers['x-goog-api-key']).toBe(KEY);
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.headers.accept).toBe('text/event-stream');
    expect(sent?.headers['x-team']).toBe('a');
    expect(sent?.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'why is the sky blue?' }] }] });

    expect(call.status).toBe(200);
    expect(call.headers).toEqual({ 'x-goog-request-id': 'g-1' });
    expect(call.droppedParams).toEqual(['user']);
    const response = assemble(chunks);
    expect(response.choices[0]?.message.content).toMatch(/^The sky is blue due to a phenomenon called \*\*Rayleigh scattering\*\*/);
    expect(response.choices[0]?.finish_reason).toBe('stop');
    expect(response.usage).toEqual({ prompt_tokens: 6, completion_tokens: 377, total_tokens: 383 });
    expect(response.model).toBe('gemini-2.0-flash');
    expect(closedEarly).toBe(0);
  });

  it('calls :generateContent for a non-streaming client and yields one response', async () => {
    handler = json(200, RESPONSE);
    const t = target();
    expect(t.streamsUpstream(false)).toBe(false);
    const events = await drain(await t.call(request(), { signal: signal(), stream: false }));
    expect(seen[0]?.url).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(seen[0]?.headers.accept).toBe('application/json');
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.type === 'response' && event.response.choices[0]?.message.content).toMatch(/Rayleigh scattering/);
    expect(event?.type === 'response' && event.response.created).toBe(1_700_000_000);
  });

  it('streams upstream for a non-streaming client when the provider says so', async () => {
    handler = streamBody(200, 'text/event-stream', SSE);
    const t = target({ streamUpstream: true });
    expect(t.streamsUpstream(false)).toBe(true);
    const events = await drain(await t.call(request(), { signal: signal(), stream: false }));
    expect(seen[0]?.url).toContain(':streamGenerateContent?alt=sse');
    expect(events.every((e) => e.type === 'chunk')).toBe(true);
  });

  it('declares its capabilities, with config overrides and known limits', () => {
    expect(target({}, 'gemini-2.5-pro').capabilities).toEqual({ ...GEMINI_DEFAULT_CAPABILITIES, maxContextTokens: 1_048_576, maxOutputTokens: 65_536 });
    expect(target({ models: { 'gemma-3': { tools: false } } }, 'gemma-3').capabilities.tools).toBe(false);
    expect(target({}, 'tunedModels/my-model').id).toBe('google/tunedModels/my-model');
  });

  it('is rate_limited with the RetryInfo delay on 429 RESOURCE_EXHAUSTED', async () => {
    handler = json(429, JSON.parse(fixture('errors/gemini.resource_exhausted.429.json')));
    const failure = await failureOf(() => target().call(request(), { signal: signal(), stream: true }));
    expect(failure).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 34_400, code: 'RESOURCE_EXHAUSTED' });
  });

  it('is model_not_found for the recorded 404 (sent as text/event-stream)', async () => {
    const recorded = JSON.parse(fixture(`${RECORDINGS}/Chats_Tests_sendMessage_Send_message_stream_with_error.0.response.json`)) as { body: unknown };
    handler = streamBody(404, 'text/event-stream', JSON.stringify(recorded.body));
    const failure = await failureOf(() => target({}, 'custom-gemini-2.0-flash').call(request(), { signal: signal(), stream: true }));
    expect(failure).toMatchObject({ kind: 'model_not_found', status: 404 });
  });

  it('is content_policy for a 200 whose prompt was blocked, streamed or not', async () => {
    const blocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 }, modelVersion: 'gemini-2.0-flash' };
    handler = json(200, blocked);
    const call = await target().call(request(), { signal: signal(), stream: false });
    expect(await failureOf(() => drain(call))).toMatchObject({ kind: 'content_policy', code: 'SAFETY' });

    handler = streamBody(200, 'text/event-stream', `data: ${JSON.stringify(blocked)}\r\n\r\n`);
    const streamed = await target().call(request(), { signal: signal(), stream: true });
    expect(await failureOf(() => drain(streamed))).toMatchObject({ kind: 'content_policy', code: 'SAFETY' });
  });

  it('never lets the key out of an error', async () => {
    handler = json(400, {
      error: {
        code: 400,
        message: `API key not valid: ${KEY}`,
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
      },
    });
    const failure = await failureOf(() => target().call(request(), { signal: signal(), stream: false }));
    expect(failure).toMatchObject({ kind: 'upstream_auth', code: 'API_KEY_INVALID' });
    expect(JSON.stringify(failure)).not.toContain(KEY);
  });

  it('fails a request it cannot translate before calling upstream', async () => {
    handler = json(200, RESPONSE);
    const failure = await failureOf(() => target().call(request({ audio: { voice: 'alloy' } }), { signal: signal(), stream: false }));
    expect(failure).toMatchObject({ kind: 'unsupported_parameter', param: 'audio' });
    expect(seen).toHaveLength(0);
  });

  it('is a stream_cut when the connection drops mid-stream', async () => {
    const first = SSE.split('\r\n\r\n')[0] ?? '';
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`${first}\r\n\r\n`);
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const call = await target().call(request(), { signal: signal(), stream: true });
    const events: UpstreamEvent[] = [];
    const failure = await failureOf(async () => {
      for await (const event of call.events) events.push(event);
    });
    expect(failure.kind).toBe('stream_cut');
    expect(chunksOf(events).length).toBeGreaterThan(0);
  });

  it('stops the upstream when the attempt is aborted, and reports the abort reason', async () => {
    const first = SSE.split('\r\n\r\n')[0] ?? '';
    let closed!: (finished: boolean) => void;
    const upstreamClosed = new Promise<boolean>((resolve) => (closed = resolve));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`${first}\r\n\r\n`);
      res.on('close', () => closed(res.writableFinished));
    };
    const controller = new AbortController();
    const call = await target().call(request(), { signal: controller.signal, stream: true });
    const iterator = call.events[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const reason = new UpstreamFailure({ kind: 'stream_stalled', message: 'no chunk for 1 s' });
    controller.abort(reason);
    expect(await failureOf(async () => {
      for (;;) if ((await iterator.next()).done) return;
    })).toBe(reason.details);
    expect(await upstreamClosed).toBe(false);
  });

  it('is a connection failure when nothing listens', async () => {
    const closedServer = createServer();
    await new Promise<void>((resolve) => closedServer.listen(0, '127.0.0.1', resolve));
    const port = (closedServer.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closedServer.close(() => resolve()));
    const failure = await failureOf(() => target({ baseUrl: `http://127.0.0.1:${port}/v1beta` }).call(request(), { signal: signal(), stream: false }));
    expect(failure.kind).toBe('connection');
  });
});
