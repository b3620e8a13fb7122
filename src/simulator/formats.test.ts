/**
 * The simulator in all three wire formats: every scenario kind × {openai, anthropic, gemini} ×
 * {stream, non-stream}, each payload validated against the provider's conformance schema
 * (shared/conformance) and, for Anthropic streams, the event-order state machine of
 * validate-anthropic.mjs. Byte-level comparisons with the recordings at the end.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import AjvModule from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Agent, request } from 'undici';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Scenario, type SimClock, type Simulator, type SimulatorOptions, createSimulator } from './index.js';

// ---------------------------------------------------------------------------------------------
// Conformance schemas
// ---------------------------------------------------------------------------------------------

const CONFORMANCE = new URL('../../../shared/conformance/', import.meta.url);
type Validate = ((data: unknown) => boolean) & { errors?: unknown };
const V: Record<string, Validate> = {};

function load(path: string): { $id: string } & Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(path, CONFORMANCE), 'utf8')) as { $id: string };
}

function text(path: string): string {
  return readFileSync(new URL(path, CONFORMANCE), 'utf8');
}

beforeAll(() => {
  const Ajv = AjvModule.default;
  const addFormats = addFormatsModule.default;
  const anthropicSchema = load('anthropic/anthropic-messages.lenient.schema.json');
  const draft07 = new Ajv({ allErrors: true, strict: false });
  addFormats(draft07);
  draft07.addSchema(anthropicSchema);
  for (const def of ['Root_Message', 'Root_StreamData', 'Root_ErrorResponse']) {
    const v = draft07.getSchema(`${anthropicSchema.$id}#/definitions/${def}`);
    if (!v) throw new Error(`missing ${def}`);
    V[`anthropic.${def}`] = v;
  }
  const ajv2020 = new Ajv2020Module.default({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv2020);
  const geminiSchema = load('gemini/gemini-v1beta.schema.json');
  const openaiSchema = load('openai-chat.schema.json');
  ajv2020.addSchema(geminiSchema);
  ajv2020.addSchema(openaiSchema);
  for (const def of ['GenerateContentResponse', 'ErrorResponse']) {
    const v = ajv2020.getSchema(`${geminiSchema.$id}#/$defs/${def}`);
    if (!v) throw new Error(`missing ${def}`);
    V[`gemini.${def}`] = v;
  }
  for (const def of ['CreateChatCompletionResponse', 'CreateChatCompletionStreamResponse', 'ErrorResponse']) {
    const v = ajv2020.getSchema(`${openaiSchema.$id}#/$defs/${def}`);
    if (!v) throw new Error(`missing ${def}`);
    V[`openai.${def}`] = v;
  }
});

function expectValid(name: string, data: unknown): void {
  const v = V[name];
  if (!v) throw new Error(`no validator ${name}`);
  if (!v(data)) throw new Error(`${name} invalid: ${JSON.stringify(v.errors)}\n${JSON.stringify(data)}`);
}

/** Validates `data` against an arbitrary JSON Schema (draft-07 semantics, formats on). */
function schemaAccepts(schema: unknown, data: unknown): boolean {
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  addFormatsModule.default(ajv);
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return ajv.validate(rest, data) as boolean;
}

// ---------------------------------------------------------------------------------------------
// Harness: raw undici requests in each format
// ---------------------------------------------------------------------------------------------

type Format = 'openai' | 'anthropic' | 'gemini';
const FORMATS: Format[] = ['openai', 'anthropic', 'gemini'];
const MODES = [
  ['non-stream', false],
  ['stream', true],
] as const;
const DEFAULT_TEXT = 'Hello from the simulator.';
const MESSAGES = [{ role: 'user', content: 'Say hello.' }];
const CONTENTS = [{ role: 'user', parts: [{ text: 'Say hello.' }] }];

let sim: Simulator | undefined;
let agent: Agent;

beforeEach(() => {
  agent = new Agent({ keepAliveTimeout: 100 });
});

afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await agent.destroy();
});

async function start(models: Record<string, Scenario>, extra: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  sim = createSimulator({ models, ...extra });
  await sim.listen();
  return sim;
}

function current(): Simulator {
  if (!sim) throw new Error('simulator not started');
  return sim;
}

interface SseEvent {
  event: string | null;
  data: string;
  at: number;
}

interface Raw {
  status: number;
  headers: Record<string, string>;
  raw: string;
  events: SseEvent[];
  headersAt: number;
  ms: number;
  /** Socket-level failure while reading the body. */
  error?: Error & { code?: string };
}

interface SendOptions {
  stream?: boolean;
  extra?: Record<string, unknown>;
  key?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  rawBody?: string;
}

function pathFor(format: Format, model: string, stream: boolean): string {
  if (format === 'openai') return '/v1/chat/completions';
  if (format === 'anthropic') return '/v1/messages';
  return `/v1beta/models/${encodeURIComponent(model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
}

function bodyFor(format: Format, model: string, stream: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (format === 'openai') {
    return { model, messages: MESSAGES, stream, ...(stream ? { stream_options: { include_usage: true } } : {}), ...extra };
  }
  if (format === 'anthropic') return { model, max_tokens: 256, messages: MESSAGES, stream, ...extra };
  return { contents: CONTENTS, ...extra };
}

function authFor(format: Format, key: string | undefined): Record<string, string> {
  if (format === 'anthropic') return { 'anthropic-version': '2023-06-01', ...(key ? { 'x-api-key': key } : {}) };
  if (!key) return {};
  return format === 'openai' ? { authorization: `Bearer ${key}` } : { 'x-goog-api-key': key };
}

function flat(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Parses SSE incrementally (WHATWG rules: \r\n, \n or \r line ends; `event:`/`data:` fields). */
function takeEvents(buffer: string, at: number, out: SseEvent[]): string {
  for (;;) {
    const m = /\r\n\r\n|\n\n|\r\r/.exec(buffer);
    if (!m) return buffer;
    const block = buffer.slice(0, m.index);
    buffer = buffer.slice(m.index + m[0].length);
    let event: string | null = null;
    const data: string[] = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const name = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (name === 'event') event = value;
      else if (name === 'data') data.push(value);
    }
    if (event !== null || data.length > 0) out.push({ event, data: data.join('\n'), at });
  }
}

/** Sends one model request in `format`; the body is read to the end (or to the socket error). */
async function send(format: Format, model: string, opts: SendOptions = {}): Promise<Raw> {
  const stream = opts.stream ?? false;
  const t0 = performance.now();
  const res = await request(`${current().origin}${pathFor(format, model, stream)}`, {
    method: 'POST',
    dispatcher: agent,
    body: opts.rawBody ?? JSON.stringify(bodyFor(format, model, stream, opts.extra)),
    headers: { 'content-type': 'application/json', ...authFor(format, opts.key), ...opts.headers },
    signal: opts.signal,
  });
  const out: Raw = { status: res.statusCode, headers: flat(res.headers), raw: '', events: [], headersAt: performance.now() - t0, ms: 0 };
  let buffer = '';
  try {
    for await (const part of res.body) {
      const s = (part as Buffer).toString('utf8');
      out.raw += s;
      buffer = takeEvents(buffer + s, performance.now() - t0, out.events);
    }
  } catch (e) {
    out.error = e as Error & { code?: string };
  }
  out.ms = performance.now() - t0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding + validation into one normalized outcome
// ---------------------------------------------------------------------------------------------

interface Outcome {
  text: string;
  toolCall?: { name: string; arguments: unknown; id?: string };
  finish?: 'stop' | 'tool' | 'refusal';
  /** The format's end-of-stream marker arrived ([DONE], message_stop, a finishReason chunk). */
  terminated: boolean;
  /** In-stream error payload, if one arrived. */
  streamError?: Record<string, unknown>;
  /** data: payloads that were not JSON. */
  malformed: string[];
  /** Number of content-carrying frames (text deltas / argument fragments / Gemini chunks). */
  contentFrames: number;
  usage?: { input: number; output: number };
}

const OPENAI_FINISH: Record<string, Outcome['finish']> = { stop: 'stop', tool_calls: 'tool', content_filter: 'refusal' };
const ANTHROPIC_FINISH: Record<string, Outcome['finish']> = { end_turn: 'stop', tool_use: 'tool', refusal: 'refusal' };

function parseArgs(s: string): unknown {
  return s === '' ? {} : JSON.parse(s);
}

function decodeOpenAI(r: Raw, stream: boolean): Outcome {
  if (!stream) {
    const body = JSON.parse(r.raw) as Record<string, any>;
    expectValid('openai.CreateChatCompletionResponse', body);
    const choice = body['choices'][0];
    const call = choice.message.tool_calls?.[0];
    return {
      text: choice.message.content ?? '',
      toolCall: call && { name: call.function.name, arguments: parseArgs(call.function.arguments), id: call.id },
      finish: OPENAI_FINISH[choice.finish_reason],
      terminated: true,
      malformed: [],
      contentFrames: 0,
      usage: { input: body['usage'].prompt_tokens, output: body['usage'].completion_tokens },
    };
  }
  expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(r.events.every((e) => e.event === null)).toBe(true);
  const out: Outcome = { text: '', terminated: false, malformed: [], contentFrames: 0 };
  let args = '';
  let first = true;
  for (const e of r.events) {
    if (e.data === '[DONE]') {
      out.terminated = true;
      continue;
    }
    let c: Record<string, any>;
    try {
      c = JSON.parse(e.data) as Record<string, any>;
    } catch {
      out.malformed.push(e.data);
      continue;
    }
    if (c['error']) {
      expectValid('openai.ErrorResponse', c);
      out.streamError = c;
      continue;
    }
    expectValid('openai.CreateChatCompletionStreamResponse', c);
    if (c['usage']) out.usage = { input: c['usage'].prompt_tokens, output: c['usage'].completion_tokens };
    const choice = c['choices'][0];
    if (!choice) continue;
    if (first) expect(choice.delta.role).toBe('assistant');
    first = false;
    if (typeof choice.delta.content === 'string' && choice.delta.role === undefined) {
      out.text += choice.delta.content;
      out.contentFrames++;
    }
    for (const tc of choice.delta.tool_calls ?? []) {
      expect(tc.index).toBe(0);
      if (tc.id) out.toolCall = { name: tc.function.name, arguments: undefined, id: tc.id };
      else out.contentFrames++;
      args += tc.function.arguments ?? '';
    }
    if (choice.finish_reason) {
      expect(out.finish).toBeUndefined();
      expect(choice.delta).toEqual({});
      out.finish = OPENAI_FINISH[choice.finish_reason];
    }
  }
  if (out.toolCall) out.toolCall.arguments = parseArgs(args);
  return out;
}

/** Port of validate-anthropic.mjs: schema per event, event name = data.type, event order, accumulated Message. */
function decodeAnthropic(r: Raw, stream: boolean): Outcome {
  if (!stream) {
    const msg = JSON.parse(r.raw) as Record<string, any>;
    expectValid('anthropic.Root_Message', msg);
    return anthropicOutcome(msg, true, 0);
  }
  expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  const problems: string[] = [];
  const out: Outcome = { text: '', terminated: false, malformed: [], contentFrames: 0 };
  let state = 'start';
  const open = new Set<number>();
  let msg: Record<string, any> | undefined;
  const partial: Record<number, string> = {};
  r.events.forEach((e, i) => {
    let data: Record<string, any>;
    try {
      data = JSON.parse(e.data) as Record<string, any>;
    } catch {
      out.malformed.push(e.data);
      return;
    }
    if (e.event !== data['type']) problems.push(`#${i} event '${e.event}' != data.type '${data['type']}'`);
    expectValid('anthropic.Root_StreamData', data);
    switch (data['type']) {
      case 'ping':
        break;
      case 'error':
        state = 'errored';
        out.streamError = data;
        break;
      case 'message_start':
        if (state !== 'start') problems.push(`#${i} message_start in state ${state}`);
        state = 'in_message';
        msg = structuredClone(data['message']);
        break;
      case 'content_block_start':
        if (state !== 'in_message') problems.push(`#${i} content_block_start in state ${state}`);
        if (open.size) problems.push(`#${i} block opened while another is open`);
        if (msg && data['index'] !== msg['content'].length) problems.push(`#${i} block index ${data['index']}`);
        open.add(data['index']);
        msg?.['content'].push(structuredClone(data['content_block']));
        break;
      case 'content_block_delta': {
        if (!open.has(data['index'])) problems.push(`#${i} delta for closed block`);
        const b = msg?.['content'][data['index']];
        const d = data['delta'];
        out.contentFrames++;
        if (b && d.type === 'text_delta') b.text += d.text;
        else if (b && d.type === 'input_json_delta') partial[data['index']] = (partial[data['index']] ?? '') + d.partial_json;
        break;
      }
      case 'content_block_stop':
        if (!open.has(data['index'])) problems.push(`#${i} stop for closed block`);
        open.delete(data['index']);
        if (partial[data['index']] !== undefined && msg) msg['content'][data['index']].input = parseArgs(partial[data['index']] ?? '');
        break;
      case 'message_delta':
        if (state !== 'in_message') problems.push(`#${i} message_delta in state ${state}`);
        if (open.size) problems.push(`#${i} message_delta with open blocks`);
        state = 'delta';
        if (msg) {
          Object.assign(msg, data['delta']);
          msg['usage'] = { ...msg['usage'], ...data['usage'] };
        }
        break;
      case 'message_stop':
        if (state !== 'delta') problems.push(`#${i} message_stop in state ${state}`);
        state = 'stopped';
        out.terminated = true;
        expectValid('anthropic.Root_Message', msg);
        break;
      default:
        problems.push(`#${i} unknown event ${data['type']}`);
    }
  });
  expect(problems).toEqual([]);
  if (!msg) return out;
  const acc = anthropicOutcome(msg, out.terminated, out.contentFrames);
  return { ...acc, streamError: out.streamError, malformed: out.malformed, finish: state === 'delta' || state === 'stopped' ? acc.finish : undefined };
}

function anthropicOutcome(msg: Record<string, any>, terminated: boolean, contentFrames: number): Outcome {
  const blocks = msg['content'] as Record<string, any>[];
  const tool = blocks.find((b) => b['type'] === 'tool_use');
  return {
    text: blocks.filter((b) => b['type'] === 'text').map((b) => b['text']).join(''),
    toolCall: tool && { name: tool['name'], arguments: tool['input'], id: tool['id'] },
    finish: msg['stop_reason'] ? ANTHROPIC_FINISH[msg['stop_reason']] : undefined,
    terminated,
    malformed: [],
    contentFrames,
    usage: { input: msg['usage'].input_tokens, output: msg['usage'].output_tokens },
  };
}

function geminiAccumulate(chunks: Record<string, any>[], out: Outcome): void {
  for (const c of chunks) {
    if (c['promptFeedback']?.blockReason) out.finish = 'refusal';
    const cand = c['candidates']?.[0];
    if (c['usageMetadata']) out.usage = { input: c['usageMetadata'].promptTokenCount, output: c['usageMetadata'].candidatesTokenCount ?? 0 };
    if (!cand) continue;
    for (const p of cand.content?.parts ?? []) {
      if (typeof p.text === 'string') out.text += p.text;
      if (p.functionCall) out.toolCall = { name: p.functionCall.name, arguments: p.functionCall.args ?? {} };
    }
    if (cand.finishReason) {
      expect(cand.finishReason).toBe('STOP');
      out.finish = out.toolCall ? 'tool' : 'stop';
    }
  }
}

function decodeGemini(r: Raw, stream: boolean): Outcome {
  const out: Outcome = { text: '', terminated: !stream, malformed: [], contentFrames: 0 };
  if (!stream) {
    expect(r.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(r.raw.endsWith('}\n')).toBe(true);
    const body = JSON.parse(r.raw) as Record<string, any>;
    expectValid('gemini.GenerateContentResponse', body);
    geminiAccumulate([body], out);
    return out;
  }
  expect(r.headers['content-type']).toBe('text/event-stream');
  expect(r.events.every((e) => e.event === null)).toBe(true);
  const chunks: Record<string, any>[] = [];
  for (const e of r.events) {
    expect(e.data).not.toBe('[DONE]');
    let c: Record<string, any>;
    try {
      c = JSON.parse(e.data) as Record<string, any>;
    } catch {
      out.malformed.push(e.data);
      continue;
    }
    if (c['error']) {
      expectValid('gemini.ErrorResponse', c);
      out.streamError = c;
      continue;
    }
    expectValid('gemini.GenerateContentResponse', c);
    chunks.push(c);
  }
  // Every chunk before the last one is unfinished; the last one carries finishReason (when complete).
  chunks.slice(0, -1).forEach((c) => expect(c['candidates']?.[0]?.finishReason).toBeUndefined());
  const last = chunks.at(-1);
  out.terminated = last !== undefined && (last['candidates']?.[0]?.finishReason !== undefined || last['promptFeedback'] !== undefined);
  out.contentFrames = chunks.length;
  geminiAccumulate(chunks, out);
  if (chunks.length > 1) expect(new Set(chunks.map((c) => c['responseId'])).size).toBe(1);
  return out;
}

function decode(format: Format, r: Raw, stream: boolean): Outcome {
  expect(r.status).toBe(200);
  if (format === 'openai') return decodeOpenAI(r, stream);
  if (format === 'anthropic') return decodeAnthropic(r, stream);
  return decodeGemini(r, stream);
}

/** Validates a whole error reply in the format's envelope; returns [type-ish name, message]. */
function expectError(format: Format, r: Raw, status: number, kind: string): { kind: string; message: string; body: Record<string, any> } {
  expect(r.status).toBe(status);
  const body = JSON.parse(r.raw) as Record<string, any>;
  if (format === 'openai') {
    expect(r.headers['content-type']).toBe('application/json');
    if (body['error'].type !== null) expectValid('openai.ErrorResponse', body);
    const got = body['error'].code ?? body['error'].type;
    expect(got).toBe(kind);
    return { kind: got, message: body['error'].message, body };
  }
  if (format === 'anthropic') {
    expect(r.headers['content-type']).toBe('application/json');
    expectValid('anthropic.Root_ErrorResponse', body);
    expect(body['request_id']).toBe(r.headers['request-id']);
    expect(body['request_id']).toMatch(/^req_011C[1-9A-HJ-NP-Za-km-z]{20}$/);
    expect(body['error'].type).toBe(kind);
    return { kind: body['error'].type, message: body['error'].message, body };
  }
  expectValid('gemini.ErrorResponse', body);
  expect(r.raw).toBe(`${JSON.stringify(body, null, 2)}\n`);
  expect(body['error'].code).toBe(status);
  expect(body['error'].status).toBe(kind);
  return { kind: body['error'].status, message: body['error'].message, body };
}

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---------------------------------------------------------------------------------------------
// Every scenario kind × format × mode
// ---------------------------------------------------------------------------------------------

const WEATHER_TOOL_PARAMS = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 }, unit: { type: 'string', enum: ['c', 'f'] } },
  required: ['city', 'days'],
  additionalProperties: false,
};

/** The request fields that offer one tool (and optionally force it), per format. */
function toolsFor(format: Format, force: boolean, name = 'get_weather', params: unknown = WEATHER_TOOL_PARAMS): Record<string, unknown> {
  if (format === 'openai') {
    return {
      tools: [{ type: 'function', function: { name, description: 'Weather', parameters: params } }],
      ...(force ? { tool_choice: 'required' } : {}),
    };
  }
  if (format === 'anthropic') {
    return { tools: [{ name, description: 'Weather', input_schema: params }], ...(force ? { tool_choice: { type: 'any' } } : {}) };
  }
  return {
    tools: [{ functionDeclarations: [{ name, description: 'Weather', parametersJsonSchema: params }] }],
    ...(force ? { toolConfig: { functionCallingConfig: { mode: 'ANY' } } } : {}),
  };
}

interface Ctx {
  format: Format;
  stream: boolean;
}

interface Row {
  name: string;
  scenario: Scenario;
  extra?: (c: Ctx) => Record<string, unknown>;
  check: (r: Raw, c: Ctx) => void;
}

const errorKinds = (openai: string, anthropic: string, gemini: string): Record<Format, string> => ({ openai, anthropic, gemini });

function errorRow(name: string, scenario: Scenario, status: Record<Format, number> | number, kinds: Record<Format, string>, more?: (r: Raw, c: Ctx, e: ReturnType<typeof expectError>) => void): Row {
  return {
    name,
    scenario,
    check: (r, c) => {
      const s = typeof status === 'number' ? status : status[c.format];
      const e = expectError(c.format, r, s, kinds[c.format]);
      more?.(r, c, e);
    },
  };
}

const ROWS: Row[] = [
  {
    name: 'ok',
    scenario: { kind: 'ok' },
    check: (r, c) => {
      const o = decode(c.format, r, c.stream);
      expect(o).toMatchObject({ text: DEFAULT_TEXT, finish: 'stop', terminated: true, malformed: [] });
      expect(o.toolCall).toBeUndefined();
      if (c.stream) expect(o.contentFrames).toBe(4);
      expect(o.usage).toEqual({ input: expect.any(Number), output: Math.ceil(DEFAULT_TEXT.length / 4) });
    },
  },
  {
    name: 'ok with chunks',
    scenario: { kind: 'ok', text: 'one two three four five six', chunks: 3 },
    check: (r, c) => {
      const o = decode(c.format, r, c.stream);
      expect(o.text).toBe('one two three four five six');
      if (c.stream) expect(o.contentFrames).toBe(3);
    },
  },
  {
    name: 'slow_first_token',
    scenario: { kind: 'slow_first_token', delay_ms: 80, text: 'late text' },
    check: (r, c) => {
      expect(decode(c.format, r, c.stream)).toMatchObject({ text: 'late text', finish: 'stop', terminated: true });
      if (!c.stream) return expect(r.ms).toBeGreaterThanOrEqual(75);
      expect(r.headersAt).toBeLessThan(60);
      const firstContent = r.events.find((e) => e.data.includes('late'));
      expect(firstContent?.at).toBeGreaterThanOrEqual(75);
    },
  },
  {
    name: 'missing_done',
    scenario: { kind: 'missing_done' },
    check: (r, c) => {
      const o = decode(c.format, r, c.stream);
      expect(o.text).toBe(DEFAULT_TEXT);
      expect(r.error).toBeUndefined();
      expect(o.terminated).toBe(!c.stream);
      if (!c.stream) return expect(o.finish).toBe('stop');
      // OpenAI: finish chunk but no [DONE]; Anthropic: message_delta but no message_stop; Gemini: no finishReason at all.
      expect(o.finish).toBe(c.format === 'gemini' ? undefined : 'stop');
      if (c.format === 'openai') expect(r.raw).not.toContain('[DONE]');
      if (c.format === 'anthropic') expect(r.raw).not.toContain('message_stop');
      if (c.format === 'gemini') expect(r.raw).not.toContain('finishReason');
    },
  },
  {
    name: 'empty',
    scenario: { kind: 'empty' },
    check: (r, c) => {
      const o = decode(c.format, r, c.stream);
      expect(o).toMatchObject({ text: '', finish: 'stop', terminated: true });
      expect(o.usage?.output).toBe(0);
      if (c.format === 'anthropic' && !c.stream) expect(JSON.parse(r.raw).content).toEqual([]);
    },
  },
  {
    name: 'tool_call',
    scenario: { kind: 'tool_call' },
    extra: (c) => toolsFor(c.format, false),
    check: (r, c) => {
      const o = decode(c.format, r, c.stream);
      expect(o).toMatchObject({ text: '', finish: 'tool', terminated: true, toolCall: { name: 'get_weather', arguments: { city: 'example', days: 1 } } });
      expect(schemaAccepts(WEATHER_TOOL_PARAMS, o.toolCall?.arguments)).toBe(true);
      if (c.format === 'openai') expect(o.toolCall?.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
      if (c.format === 'anthropic') expect(o.toolCall?.id).toMatch(/^toolu_01[1-9A-HJ-NP-Za-km-z]{22}$/);
      // Arguments arrive in fragments (OpenAI deltas, Anthropic input_json_delta); Gemini: one functionCall part.
      if (c.stream) expect(o.contentFrames).toBe(c.format === 'gemini' ? 1 : c.format === 'anthropic' ? 7 : 6);
    },
  },
  {
    name: 'json',
    scenario: { kind: 'json' },
    check: (r, c) => {
      const o = decode(c.format, r, c.stream);
      expect(JSON.parse(o.text)).toEqual({ ok: true });
      expect(o.finish).toBe('stop');
    },
  },
  {
    name: 'cut',
    scenario: { kind: 'cut', after_chunks: 2 },
    check: (r, c) => {
      expect(r.status).toBe(200);
      expect(r.error?.code).toBe('UND_ERR_SOCKET');
      if (!c.stream) {
        expect(Number(r.headers['content-length'])).toBeGreaterThan(100);
        expect(Buffer.byteLength(r.raw)).toBe(Math.floor(Number(r.headers['content-length']) / 2));
        return;
      }
      const o = decode(c.format, r, true);
      expect(o.text).toBe('Hello from');
      expect(o.contentFrames).toBe(2);
      expect(o.terminated).toBe(false);
      expect(o.finish).toBeUndefined();
    },
  },
  {
    name: 'stall',
    scenario: { kind: 'stall', after_chunks: 2, stall_ms: 80, text: 'a b c d' },
    check: (r, c) => {
      const o = decode(c.format, r, c.stream);
      expect(o).toMatchObject({ text: 'a b c d', finish: 'stop', terminated: true });
      if (!c.stream) return expect(r.ms).toBeGreaterThanOrEqual(75);
      const content = r.events.filter((e) => /"(text|content)":" ?[abcd]"/.test(e.data));
      expect(content).toHaveLength(4);
      expect((content[2]?.at ?? 0) - (content[1]?.at ?? 0)).toBeGreaterThanOrEqual(70);
    },
  },
  {
    name: 'malformed_chunk',
    scenario: { kind: 'malformed_chunk', after_chunks: 2, text: 'a b c d' },
    check: (r, c) => {
      expect(r.status).toBe(200);
      if (!c.stream) {
        expect(r.headers['content-type']).toMatch(/^application\/json/);
        return expect(() => JSON.parse(r.raw)).toThrow();
      }
      const o = decode(c.format, r, true);
      expect(o.malformed).toHaveLength(1);
      expect(o).toMatchObject({ text: 'a b c d', finish: 'stop', terminated: true });
    },
  },
  {
    name: 'midstream_error',
    scenario: { kind: 'midstream_error', after_chunks: 2 },
    check: (r, c) => {
      if (!c.stream) {
        expectError(c.format, r, 529, errorKinds('server_error', 'overloaded_error', 'UNAVAILABLE')[c.format]);
        return;
      }
      const o = decode(c.format, r, true);
      expect(r.error).toBeUndefined(); // clean close after the error event
      expect(o.text).toBe('Hello from');
      expect(o.terminated).toBe(false);
      expect(o.finish).toBeUndefined();
      const e = o.streamError as Record<string, any>;
      if (c.format === 'openai') expect(e['error']).toMatchObject({ type: 'server_error', message: expect.stringContaining('overloaded') });
      if (c.format === 'anthropic') expect(e).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
      if (c.format === 'gemini') expect(e).toEqual({ error: { code: 529, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } });
    },
  },
  {
    name: 'garbage',
    scenario: { kind: 'garbage' },
    check: (r, c) => {
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(c.stream ? /^text\/event-stream/ : /^application\/json/);
      expect(r.raw).toContain('502 Bad Gateway');
      expect(r.events).toHaveLength(0);
    },
  },
  {
    name: 'content_filter',
    scenario: { kind: 'content_filter' },
    check: (r, c) => {
      if (c.format === 'openai') {
        expectError('openai', r, 400, 'content_filter');
        return;
      }
      const o = decode(c.format, r, c.stream);
      expect(o).toMatchObject({ text: '', finish: 'refusal', terminated: true });
      if (c.format === 'gemini') {
        const chunk = JSON.parse(c.stream ? (r.events[0]?.data ?? '') : r.raw);
        expect(chunk.candidates).toBeUndefined();
        expect(chunk.promptFeedback.blockReason).toBe('SAFETY');
      } else {
        expect(c.stream ? r.raw : JSON.parse(r.raw).stop_details).toBeTruthy();
      }
    },
  },
  errorRow('rate_limit', { kind: 'rate_limit', retry_after_s: 2 }, 429, errorKinds('rate_limit_exceeded', 'rate_limit_error', 'RESOURCE_EXHAUSTED'), (r, c, e) => {
    if (c.format === 'gemini') {
      expect(r.headers['retry-after']).toBeUndefined();
      expect(e.body['error'].details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' });
    } else {
      expect(r.headers['retry-after']).toBe('2');
    }
    if (c.format === 'anthropic') expect(r.headers['anthropic-ratelimit-requests-remaining']).toBe('0');
  }),
  errorRow('rate_limit without retry hint', { kind: 'rate_limit' }, 429, errorKinds('rate_limit_exceeded', 'rate_limit_error', 'RESOURCE_EXHAUSTED'), (r, _c, e) => {
    expect(r.headers['retry-after']).toBeUndefined();
    expect(JSON.stringify(e.body)).not.toContain('RetryInfo');
  }),
  errorRow('insufficient_quota', { kind: 'insufficient_quota' }, { openai: 429, anthropic: 400, gemini: 429 }, errorKinds('insufficient_quota', 'invalid_request_error', 'RESOURCE_EXHAUSTED'), (r, c, e) => {
    expect(r.headers['retry-after']).toBeUndefined();
    if (c.format === 'anthropic') expect(e.message).toMatch(/^Your credit balance is too low/);
    if (c.format === 'gemini') expect(JSON.stringify(e.body)).toContain('PerDay');
  }),
  errorRow('status 500', { kind: 'status', status: 500 }, 500, errorKinds('server_error', 'api_error', 'INTERNAL')),
  errorRow('status 503 + retry_after_s', { kind: 'status', status: 503, retry_after_s: 3 }, 503, errorKinds('server_error', 'api_error', 'UNAVAILABLE'), (r, c, e) => {
    if (c.format === 'gemini') expect(e.body['error'].details).toEqual([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' }]);
    else expect(r.headers['retry-after']).toBe('3');
  }),
  errorRow('status 529', { kind: 'status', status: 529 }, 529, errorKinds('server_error', 'overloaded_error', 'UNAVAILABLE'), (_r, c, e) => {
    if (c.format === 'anthropic') expect(e.message).toBe('Overloaded');
  }),
  errorRow('status 404 with message', { kind: 'status', status: 404, message: 'gone' }, 404, errorKinds('invalid_request_error', 'not_found_error', 'NOT_FOUND'), (_r, _c, e) => {
    expect(e.message).toBe('gone');
  }),
  errorRow('context_window', { kind: 'context_window', limit: 10 }, 400, errorKinds('context_length_exceeded', 'invalid_request_error', 'INVALID_ARGUMENT'), (_r, c, e) => {
    const pattern = {
      openai: /^This model's maximum context length is 10 tokens\. However, your messages resulted in \d+ tokens\./,
      anthropic: /^prompt is too long: \d+ tokens > 10 maximum$/,
      gemini: /^The input token count \(\d+\) exceeds the maximum number of tokens allowed \(10\)\.$/,
    }[c.format];
    expect(e.message).toMatch(pattern);
  }),
  errorRow('invalid_request', { kind: 'invalid_request' }, 400, errorKinds('invalid_value', 'invalid_request_error', 'INVALID_ARGUMENT'), (_r, _c, e) => {
    expect(e.message).toMatch(/temperature/);
  }),
  errorRow('unsupported_parameter', { kind: 'unsupported_parameter' }, 400, errorKinds('unsupported_parameter', 'invalid_request_error', 'INVALID_ARGUMENT'), (_r, _c, e) => {
    expect(e.message).toMatch(/max_(completion_)?tokens/);
  }),
  errorRow('auth_error', { kind: 'auth_error' }, { openai: 401, anthropic: 401, gemini: 400 }, errorKinds('invalid_api_key', 'authentication_error', 'INVALID_ARGUMENT'), (_r, c, e) => {
    if (c.format === 'gemini') expect(e.body['error'].details[0]).toMatchObject({ reason: 'API_KEY_INVALID' });
  }),
];

describe.each(FORMATS)('%s', (format) => {
  describe.each(MODES)('%s', (_mode, stream) => {
    it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
      await start({ m: row.scenario });
      const ctx = { format, stream };
      const r = await send(format, 'm', { stream, extra: row.extra?.(ctx) });
      row.check(r, ctx);
      const calls = current().calls;
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ model: 'm', stream, format, outcome: row.scenario.kind });
    });

    it('reset: connection reset after the request is read', async () => {
      const s = await start({ m: { kind: 'reset' } });
      const err = await send(format, 'm', { stream }).then(
        (r) => r.error,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(err?.code);
      expect(s.calls.map((c) => c.outcome)).toEqual(['reset']);
      await waitFor(() => s.openConnections() === 0);
    });

    it('no_response: held open until the client aborts', async () => {
      const s = await start({ m: { kind: 'no_response' } });
      const err = await send(format, 'm', { stream, signal: AbortSignal.timeout(80) }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.name).toMatch(/AbortError|TimeoutError/);
      expect(s.calls.map((c) => c.outcome)).toEqual(['no_response']);
      await waitFor(() => s.openConnections() === 0);
    });

    it('fail_first and outage resolve once, counters per model', async () => {
      let now = 1_000_000;
      const clock: SimClock = { now: () => now };
      const s = await start(
        {
          flaky: { kind: 'fail_first', n: 1, failure: { kind: 'status', status: 503 }, then: { kind: 'ok' } },
          down: { kind: 'outage', down_ms: 100, every_ms: 1000, then: { kind: 'ok' } },
        },
        { clock },
      );
      expect((await send(format, 'flaky', { stream })).status).toBe(503);
      expect((await send(format, 'flaky', { stream })).status).toBe(200);
      expect((await send(format, 'down', { stream })).status).toBe(503);
      now += 500;
      expect((await send(format, 'down', { stream })).status).toBe(200);
      expect(s.calls.map((c) => `${c.model}:${c.outcome}`)).toEqual(['flaky:status', 'flaky:ok', 'down:status', 'down:ok']);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Cross-format behaviour
// ---------------------------------------------------------------------------------------------

describe('across formats', () => {
  it('fail_first counters are shared by all formats of one model', async () => {
    const s = await start({ m: { kind: 'fail_first', n: 2, failure: { kind: 'rate_limit' }, then: { kind: 'ok' } } });
    expect((await send('openai', 'm')).status).toBe(429);
    expect((await send('anthropic', 'm', { stream: true })).status).toBe(429);
    expect((await send('gemini', 'm')).status).toBe(200);
    expect(s.calls.map((c) => `${c.format}:${c.outcome}`)).toEqual(['openai:rate_limit', 'anthropic:rate_limit', 'gemini:ok']);
  });

  it.each(FORMATS)('%s: ok answers a forcing request with a tool call (stream and non-stream)', async (format) => {
    await start({ m: { kind: 'ok' } });
    for (const [, stream] of MODES) {
      const o = decode(format, await send(format, 'm', { stream, extra: toolsFor(format, true) }), stream);
      expect(o).toMatchObject({ text: '', finish: 'tool', toolCall: { name: 'get_weather', arguments: { city: 'example', days: 1 } } });
    }
    // Offering tools without forcing them leaves `ok` a text answer.
    expect(decode(format, await send(format, 'm', { extra: toolsFor(format, false) }), false).text).toBe(DEFAULT_TEXT);
  });

  it.each(FORMATS)('%s: tool_call with name, arguments and text', async (format) => {
    await start({ m: { kind: 'tool_call', name: 'lookup', arguments: { q: 'x', n: [1, 2] }, text: 'Let me check.' } });
    const tools = toolsFor(format, false, 'get_weather');
    const second = toolsFor(format, false, 'lookup', { type: 'object', properties: { q: { type: 'string' } } });
    const merged =
      format === 'openai'
        ? { tools: [...(tools['tools'] as unknown[]), ...(second['tools'] as unknown[])] }
        : format === 'anthropic'
          ? { tools: [...(tools['tools'] as unknown[]), ...(second['tools'] as unknown[])] }
          : { tools: [{ functionDeclarations: [...(tools['tools'] as any)[0].functionDeclarations, ...(second['tools'] as any)[0].functionDeclarations] }] };
    for (const [, stream] of MODES) {
      const o = decode(format, await send(format, 'm', { stream, extra: merged }), stream);
      expect(o).toMatchObject({ text: 'Let me check.', finish: 'tool', toolCall: { name: 'lookup', arguments: { q: 'x', n: [1, 2] } } });
    }
  });

  it.each(FORMATS)('%s: tool_call without tools in the request answers text', async (format) => {
    await start({ m: { kind: 'tool_call', text: 'nothing to call' } });
    const o = decode(format, await send(format, 'm', { stream: true }), true);
    expect(o).toMatchObject({ text: 'nothing to call', finish: 'stop' });
  });

  const JSON_SCHEMA = {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 10 },
      when: { type: 'string', format: 'date-time' },
      score: { type: 'number', minimum: 3, maximum: 4 },
      tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, minItems: 2 },
      nested: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/inner' }] },
      kind: { const: 'fixed' },
    },
    required: ['name', 'when', 'score', 'tags', 'nested', 'kind'],
    additionalProperties: false,
    $defs: { inner: { type: 'object', properties: { id: { type: 'integer', exclusiveMinimum: 5 } }, required: ['id'] } },
  };

  it.each(FORMATS)('%s: json follows the schema the request gives', async (format) => {
    await start({ m: { kind: 'json', value: { ignored: true } } });
    const extra = {
      openai: { response_format: { type: 'json_schema', json_schema: { name: 'out', strict: true, schema: JSON_SCHEMA } } },
      anthropic: { output_format: { type: 'json_schema', schema: JSON_SCHEMA } },
      gemini: { generationConfig: { responseMimeType: 'application/json', responseJsonSchema: JSON_SCHEMA } },
    }[format];
    for (const [, stream] of MODES) {
      const o = decode(format, await send(format, 'm', { stream, extra }), stream);
      const value = JSON.parse(o.text);
      expect(schemaAccepts(JSON_SCHEMA, value)).toBe(true);
      expect(value).toMatchObject({ kind: 'fixed', nested: { id: 6 }, score: 3 });
    }
  });

  it.each(FORMATS)('%s: json without a schema answers `value`', async (format) => {
    await start({ m: { kind: 'json', value: { answer: 42 } } });
    const o = decode(format, await send(format, 'm', { stream: true }), true);
    expect(JSON.parse(o.text)).toEqual({ answer: 42 });
  });

  it('json: Anthropic tool-forcing gets the JSON as tool input', async () => {
    await start({ m: { kind: 'json' } });
    const extra = { tools: [{ name: 'json', input_schema: JSON_SCHEMA }], tool_choice: { type: 'tool', name: 'json' } };
    for (const [, stream] of MODES) {
      const o = decode('anthropic', await send('anthropic', 'm', { stream, extra }), stream);
      expect(o.finish).toBe('tool');
      expect(o.toolCall?.name).toBe('json');
      expect(schemaAccepts(JSON_SCHEMA, o.toolCall?.arguments)).toBe(true);
    }
  });

  it('json: the responseJsonSchema of the js-genai recording', async () => {
    const recorded = JSON.parse(
      text('fixtures/gemini/js-genai-recordings/Client_Tests_generateContent_ML_Dev_should_generate_content_with_given_valid_json_schema_in_responseSchema.0.request.json'),
    ) as Record<string, any>;
    await start({ m: { kind: 'json' } });
    const o = decode('gemini', await send('gemini', 'm', { rawBody: JSON.stringify(recorded) }), false);
    expect(schemaAccepts(recorded['generationConfig'].responseJsonSchema, JSON.parse(o.text))).toBe(true);
  });

  it('Gemini OpenAPI-subset schemas (upper-case types, snake_case fields) and a named forced function', async () => {
    await start({ m: { kind: 'ok' } });
    const extra = {
      tools: [
        {
          function_declarations: [
            { name: 'a', parameters: { type: 'OBJECT', properties: { x: { type: 'STRING' } }, required: ['x'] } },
            { name: 'b', parameters: { type: 'OBJECT', properties: { y: { type: 'NUMBER' } }, required: ['y'] } },
          ],
        },
      ],
      tool_config: { function_calling_config: { mode: 'ANY', allowed_function_names: ['b'] } },
    };
    const o = decode('gemini', await send('gemini', 'm', { extra }), false);
    expect(o.toolCall).toEqual({ name: 'b', arguments: { y: 1 } });
  });

  it('OpenAI / Anthropic named tool_choice picks that tool', async () => {
    await start({ m: { kind: 'ok' } });
    const two = (format: Format): unknown[] => [
      ...(toolsFor(format, false, 'first')['tools'] as unknown[]),
      ...(toolsFor(format, false, 'second')['tools'] as unknown[]),
    ];
    const o1 = decode('openai', await send('openai', 'm', { extra: { tools: two('openai'), tool_choice: { type: 'function', function: { name: 'second' } } } }), false);
    expect(o1.toolCall?.name).toBe('second');
    const o2 = decode('anthropic', await send('anthropic', 'm', { extra: { tools: two('anthropic'), tool_choice: { type: 'tool', name: 'second' } } }), false);
    expect(o2.toolCall?.name).toBe('second');
  });

  it.each(FORMATS)('%s: apiKey is checked in the format’s own auth slot', async (format) => {
    const s = await start({ m: { kind: 'ok' } }, { apiKey: 'sk-secret-0001' });
    const missing = await send(format, 'm');
    const wrong = await send(format, 'm', { key: 'sk-wrong-key-9999' });
    if (format === 'openai') {
      expectError(format, missing, 401, 'invalid_api_key');
      expectError(format, wrong, 401, 'invalid_api_key');
    } else if (format === 'anthropic') {
      expect(expectError(format, missing, 401, 'authentication_error').message).toBe('x-api-key header is required');
      expect(expectError(format, wrong, 401, 'authentication_error').message).toBe('invalid x-api-key');
    } else {
      expect(expectError(format, missing, 403, 'PERMISSION_DENIED').message).toMatch(/^Method doesn't allow unregistered callers/);
      expect(expectError(format, wrong, 400, 'INVALID_ARGUMENT').body['error'].details[0].reason).toBe('API_KEY_INVALID');
    }
    expect((await send(format, 'm', { key: 'sk-secret-0001' })).status).toBe(200);
    // Anthropic also takes the key as a Bearer token (what @anthropic-ai/sdk 1.x sends); Gemini does not.
    if (format === 'anthropic') expect((await send(format, 'm', { headers: { authorization: 'Bearer sk-secret-0001' } })).status).toBe(200);
    if (format === 'gemini') expect((await send(format, 'm', { headers: { authorization: 'Bearer sk-secret-0001' } })).status).toBe(403);
    expect(s.calls.slice(0, 3).map((c) => c.outcome)).toEqual(['unauthorized', 'unauthorized', 'ok']);
  });

  it('Gemini also takes the key from ?key=', async () => {
    await start({ m: { kind: 'ok' } }, { apiKey: 'g-key' });
    const res = await request(`${current().origin}/v1beta/models/m:generateContent?key=g-key`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify({ contents: CONTENTS }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('records format and raw (lower-cased) headers of every call', async () => {
    const s = await start({ m: { kind: 'ok' } });
    await send('anthropic', 'm', { key: 'k1', headers: { 'Anthropic-Beta': 'a,b' } });
    await send('gemini', 'm', { stream: true, key: 'k2' });
    expect(s.calls).toEqual([
      expect.objectContaining({ format: 'anthropic', stream: false, headers: expect.objectContaining({ 'x-api-key': 'k1', 'anthropic-beta': 'a,b', 'anthropic-version': '2023-06-01' }) }),
      expect.objectContaining({ format: 'gemini', stream: true, model: 'm', body: { contents: CONTENTS }, headers: expect.objectContaining({ 'x-goog-api-key': 'k2' }) }),
    ]);
  });

  it('request validation: invalid JSON, missing model / required fields, unknown model, per format', async () => {
    const s = await start({ m: { kind: 'ok' } });
    expectError('anthropic', await send('anthropic', 'm', { rawBody: '{"model":' }), 400, 'invalid_request_error');
    expectError('gemini', await send('gemini', 'm', { rawBody: '{"contents":' }), 400, 'INVALID_ARGUMENT');
    const noMax = await send('anthropic', 'm', { rawBody: JSON.stringify({ model: 'm', messages: MESSAGES }) });
    expect(expectError('anthropic', noMax, 400, 'invalid_request_error').message).toBe('max_tokens: Field required');
    const noModel = await send('anthropic', 'm', { rawBody: JSON.stringify({ max_tokens: 5, messages: MESSAGES }) });
    expect(expectError('anthropic', noModel, 400, 'invalid_request_error').message).toBe('model: Field required');
    const noContents = await send('gemini', 'm', { rawBody: JSON.stringify({ generationConfig: {} }) });
    expect(expectError('gemini', noContents, 400, 'INVALID_ARGUMENT').message).toBe('* GenerateContentRequest.contents: contents is not specified\n');
    expect(expectError('anthropic', await send('anthropic', 'nope'), 404, 'not_found_error').message).toBe('model: nope');
    expectError('gemini', await send('gemini', 'nope'), 404, 'NOT_FOUND');
    expect(s.calls.map((c) => c.outcome)).toEqual(['invalid_json', 'invalid_json', 'missing_field', 'missing_model', 'missing_field', 'model_not_found', 'model_not_found']);
  });

  it('lists models in each format', async () => {
    await start({ a: { kind: 'ok' }, b: { kind: 'reset' } });
    const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
      const res = await request(`${current().origin}${path}`, { dispatcher: agent, headers });
      return { status: res.statusCode, body: await res.body.json() };
    };
    expect((await get('/v1/models')).body).toMatchObject({ object: 'list', data: [{ id: 'a', object: 'model' }, { id: 'b' }] });
    const anth = await get('/v1/models', { 'anthropic-version': '2023-06-01' });
    expect(anth.body).toMatchObject({ data: [{ type: 'model', id: 'a', display_name: 'a' }, { id: 'b' }], has_more: false, first_id: 'a', last_id: 'b' });
    expect((await get('/v1beta/models')).body.models.map((m: { name: string }) => m.name)).toEqual(['models/a', 'models/b']);
    expect((await get('/v1beta/models/b')).body).toMatchObject({ name: 'models/b', supportedGenerationMethods: expect.arrayContaining(['generateContent']) });
    const missing = await get('/v1beta/models/zz');
    expect(missing.status).toBe(404);
    expectValid('gemini.ErrorResponse', missing.body);
    expect((await get('/v1/models/zz', { 'anthropic-version': '2023-06-01' })).body.error.type).toBe('not_found_error');
  });

  it('exposes a base URL per format', async () => {
    const s = await start({});
    expect(s.origin).toBe(`http://127.0.0.1:${s.port}`);
    expect(s.baseUrls).toEqual({ openai: `${s.origin}/v1`, anthropic: s.origin, gemini: `${s.origin}/v1beta` });
  });

  it('each format carries its own response headers', async () => {
    await start({ m: { kind: 'ok' } });
    const o = await send('openai', 'm');
    expect(o.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
    const a = await send('anthropic', 'm', { stream: true });
    expect(a.headers['request-id']).toMatch(/^req_011C/);
    expect(a.headers['anthropic-ratelimit-requests-limit']).toBe('4000');
    expect(a.headers['anthropic-ratelimit-tokens-reset']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(a.headers['x-request-id']).toBeUndefined();
    const g = await send('gemini', 'm');
    expect(g.headers['server']).toBe('scaffolding on HTTPServer2');
    expect(g.headers['x-request-id']).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Fidelity to the recordings
// ---------------------------------------------------------------------------------------------

/** Keys of every object in `v`, recursively, in order (the serialization "shape"). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

function keysOf(v: unknown): string[] {
  return Object.keys(v as object);
}

describe('fidelity to the recordings', () => {
  it('Anthropic text stream: the event sequence and field order of the real API', async () => {
    await start({ m: { kind: 'ok', text: 'Hello there!', chunks: 3 } });
    const r = await send('anthropic', 'm', { stream: true });
    const recorded = text('fixtures/anthropic/sdk-typescript/basic_response.sse');
    const names = (raw: string): string[] => [...raw.matchAll(/^event: (\S+)$/gm)].map((m) => m[1] ?? '');
    expect(names(r.raw)).toEqual(names(recorded));
    expect(r.raw).toContain('event: ping\ndata: {"type": "ping"}\n\n');
    expect(r.raw).toMatch(/^(event: \w+\ndata: [^\n]+\n\n)+$/);
    const real = text('fixtures/vercel-ai/anthropic/anthropic-text.chunks.txt')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
    const ours = r.events.map((e) => JSON.parse(e.data) as Record<string, any>);
    for (const type of ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_stop']) {
      expect(shape(ours.find((e) => e['type'] === type)), type).toEqual(shape(real.find((e) => e['type'] === type)));
    }
    const delta = ours.find((e) => e['type'] === 'message_delta');
    expect(keysOf(delta?.['delta'])).toEqual(['stop_reason', 'stop_sequence']);
    expect(keysOf(delta?.['usage'])).toEqual(['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens']);
  });

  it('Anthropic non-stream Message: field order of the real API', async () => {
    await start({ m: { kind: 'ok' } });
    const ours = JSON.parse((await send('anthropic', 'm')).raw);
    const real = JSON.parse(text('fixtures/vercel-ai/anthropic/anthropic-text.json'));
    expect(shape(ours)).toEqual(shape(real));
  });

  it('Anthropic tool_use stream: text block, then tool_use with input_json_delta fragments (first one empty)', async () => {
    await start({ m: { kind: 'tool_call', text: 'I will check.' } });
    const r = await send('anthropic', 'm', { stream: true, extra: toolsFor('anthropic', false) });
    const recorded = text('fixtures/anthropic/sdk-typescript/tool_use_response.sse');
    const collapse = (raw: string): string[] =>
      [...raw.matchAll(/^event: (\S+)$/gm)].map((m) => m[1] ?? '').filter((n, i, all) => n !== 'content_block_delta' || all[i - 1] !== n);
    expect(collapse(r.raw)).toEqual(collapse(recorded));
    const deltas = r.events.map((e) => JSON.parse(e.data)).filter((d) => d.delta?.type === 'input_json_delta');
    expect(deltas[0].delta.partial_json).toBe('');
    expect(deltas.length).toBeGreaterThan(2);
    const start_ = r.events.map((e) => JSON.parse(e.data)).find((d) => d.content_block?.type === 'tool_use');
    expect(start_.content_block).toEqual({ type: 'tool_use', id: expect.stringMatching(/^toolu_01/), name: 'get_weather', input: {} });
  });

  it('Anthropic refusal: the event sequence and stop_details of the recording', async () => {
    await start({ m: { kind: 'content_filter' } });
    const r = await send('anthropic', 'm', { stream: true });
    const recorded = text('fixtures/vercel-ai/anthropic/anthropic-refusal.chunks.txt')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
    const ours = r.events.map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(ours.map((e) => e['type'])).toEqual(recorded.map((e) => e['type']));
    const { recommended_model: _m, ...details } = recorded[2]?.['delta'].stop_details;
    expect(ours[2]?.['delta']).toEqual({ stop_reason: 'refusal', stop_sequence: null, stop_details: details });
    const plain = JSON.parse((await send('anthropic', 'm')).raw);
    const real = JSON.parse(text('fixtures/vercel-ai/anthropic/anthropic-refusal.json'));
    expect(keysOf(plain)).toEqual(keysOf(real));
    expect(plain.content).toEqual([]);
  });

  it('Anthropic mid-stream overloaded error: byte-identical to the recorded event', async () => {
    await start({ m: { kind: 'midstream_error', after_chunks: 1, status: 529 } });
    const r = await send('anthropic', 'm', { stream: true });
    expect(r.raw.endsWith(text('fixtures/errors/anthropic.overloaded_error.midstream.sse'))).toBe(true);
  });

  it('Anthropic prompt too long: the shape of the recorded body', async () => {
    await start({ m: { kind: 'context_window', limit: 200000 } });
    const ours = JSON.parse((await send('anthropic', 'm')).raw);
    const real = JSON.parse(text('fixtures/errors/anthropic.prompt_too_long.400.json'));
    expect(shape(ours)).toEqual(shape(real));
    expect(ours.error.message).toBe('prompt is too long: 200001 tokens > 200000 maximum');
  });

  it('Gemini stream chunks: framing and field order of the live API', async () => {
    await start({ m: { kind: 'ok' } });
    const r = await send('gemini', 'm', { stream: true });
    expect(r.raw).toMatch(/^(data: [^\r\n]+\r\n\r\n)+$/);
    const real = text('fixtures/vercel-ai/google/google-text.chunks.txt')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
    const strip = (c: Record<string, any>): Record<string, any> => {
      const { thoughtsTokenCount: _t, ...usage } = c['usageMetadata'];
      return { ...c, usageMetadata: usage, candidates: c['candidates'].map((x: any) => ({ ...x, content: { ...x.content, parts: [{ text: '' }] } })) };
    };
    const ours = r.events.map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(shape(ours[0])).toEqual(shape(strip(real[0] ?? {})));
    expect(shape(ours.at(-1))).toEqual(shape(strip(real.at(-1) ?? {})));
  });

  it('Gemini function call: one functionCall part and finishReason STOP, as recorded', async () => {
    await start({ m: { kind: 'tool_call', arguments: { location: 'San Francisco' } } });
    const r = await send('gemini', 'm', { stream: true, extra: toolsFor('gemini', false, 'weather') });
    expect(r.events).toHaveLength(1);
    const ours = JSON.parse(r.events[0]?.data ?? '');
    const real = JSON.parse(text('fixtures/vercel-ai/google/google-tool-call.json'));
    expect(ours.candidates[0].content).toEqual({ parts: [{ functionCall: { name: 'weather', args: { location: 'San Francisco' } } }], role: 'model' });
    expect(ours.candidates[0].content.parts[0].functionCall).toEqual(real.candidates[0].content.parts[0].functionCall);
    expect(ours.candidates[0].finishReason).toBe(real.candidates[0].finishReason);
  });

  it('Gemini unknown model on a stream: byte-for-byte the recorded 404 (JSON body, text/event-stream)', async () => {
    await start({});
    const r = await send('gemini', 'custom-gemini-2.0-flash', { stream: true });
    const recorded = JSON.parse(text('fixtures/gemini/js-genai-recordings/Chats_Tests_sendMessage_Send_message_stream_with_error.0.response.json'));
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toBe(recorded.headers['Content-Type']);
    expect(r.headers['content-length']).toBe(recorded.headers['Content-Length']);
    expect(JSON.parse(r.raw)).toEqual(recorded.body);
    for (const h of ['Server', 'Vary', 'X-Content-Type-Options', 'X-Frame-Options', 'X-Xss-Protection']) {
      expect(r.headers[h.toLowerCase()]).toBe(recorded.headers[h]);
    }
  });

  it('Gemini 429: the shape of the recorded RESOURCE_EXHAUSTED body', async () => {
    await start({ m: { kind: 'rate_limit', retry_after_ms: 34_400 } });
    const ours = JSON.parse((await send('gemini', 'm')).raw);
    const real = JSON.parse(text('fixtures/errors/gemini.resource_exhausted.429.json'));
    expect(keysOf(ours.error)).toEqual(keysOf(real.error));
    expect(ours.error.details.map((d: Record<string, unknown>) => d['@type'])).toEqual(
      expect.arrayContaining(real.error.details.map((d: Record<string, unknown>) => d['@type'])),
    );
    expect(ours.error.details.at(-1)).toEqual(real.error.details.at(-1));
  });

  it('OpenAI tool-call stream: the tool header rides on the role delta, as recorded', async () => {
    await start({ m: { kind: 'tool_call' } });
    const r = await send('openai', 'm', { stream: true, extra: toolsFor('openai', true) });
    const recorded = text('fixtures/openai/openai-python-recordings/test_parse_strict_tools.sse')
      .split('\n\n')
      .filter((b) => b.startsWith('data: {'))
      .map((b) => JSON.parse(b.slice(6)) as Record<string, any>);
    const ours = r.events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as Record<string, any>);
    expect(shape(ours[0]?.['choices'][0].delta)).toEqual(shape(recorded[0]?.['choices'][0].delta));
    expect(shape(ours[1]?.['choices'][0].delta)).toEqual(shape(recorded[1]?.['choices'][0].delta));
    const finish = ours.find((c) => c['choices'][0]?.finish_reason);
    expect(finish?.['choices'][0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' });
  });

  it('OpenAI mid-stream error: a data: {"error":…} event, no [DONE]', async () => {
    await start({ m: { kind: 'midstream_error', after_chunks: 0, status: 500, message: 'boom' } });
    const r = await send('openai', 'm', { stream: true });
    expect(r.events.at(-1)?.data).toBe(JSON.stringify({ error: { message: 'boom', type: 'server_error', param: null, code: null } }));
    expect(r.raw).not.toContain('[DONE]');
  });
});
