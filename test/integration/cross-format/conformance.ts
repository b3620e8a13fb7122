/**
 * The providers' own schemas (../shared/conformance), used to check what crosses each edge of
 * the gateway: what clients receive (OpenAI responses and chunks, Anthropic messages and stream
 * events, with Anthropic's event-order rules) and what upstreams receive (OpenAI, Anthropic and
 * Gemini request bodies — Gemini's against the strict schema, which rejects unknown fields).
 */
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

const CONFORMANCE = new URL('../../../../shared/conformance/', import.meta.url);

type Validate = ((data: unknown) => boolean) & { errors?: unknown };

function load(path: string): { $id: string } & Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(path, CONFORMANCE), 'utf8')) as { $id: string };
}

function build(): Record<string, Validate> {
  const out: Record<string, Validate> = {};
  const ajv2020 = new Ajv2020Module.default({ allErrors: true, strict: true, strictTypes: false });
  addFormatsModule.default(ajv2020);
  const openai = load('openai-chat.schema.json');
  const gemini = load('gemini/gemini-v1beta.strict.schema.json');
  ajv2020.addSchema(openai);
  ajv2020.addSchema(gemini);
  for (const def of ['CreateChatCompletionRequest', 'CreateChatCompletionResponse', 'CreateChatCompletionStreamResponse', 'ErrorResponse']) {
    out[`openai.${def}`] = mustGet(ajv2020.getSchema(`${openai.$id}#/$defs/${def}`), def);
  }
  out['gemini.GenerateContentRequest'] = mustGet(ajv2020.getSchema(`${gemini.$id}#/$defs/GenerateContentRequest`), 'GenerateContentRequest');
  const draft07 = new AjvModule.default({ allErrors: true, strict: false });
  addFormatsModule.default(draft07);
  const anthropic = load('anthropic/anthropic-messages.lenient.schema.json');
  draft07.addSchema(anthropic);
  for (const def of ['Root_Message', 'Root_StreamData', 'Root_MessageCreateParams', 'Root_ErrorResponse']) {
    out[`anthropic.${def}`] = mustGet(draft07.getSchema(`${anthropic.$id}#/definitions/${def}`), def);
  }
  return out;
}

function mustGet(v: Validate | undefined, name: string): Validate {
  if (!v) throw new Error(`conformance schema has no ${name}`);
  return v;
}

let validators: Record<string, Validate> | undefined;

export type SchemaName =
  | 'openai.CreateChatCompletionRequest'
  | 'openai.CreateChatCompletionResponse'
  | 'openai.CreateChatCompletionStreamResponse'
  | 'openai.ErrorResponse'
  | 'gemini.GenerateContentRequest'
  | 'anthropic.Root_Message'
  | 'anthropic.Root_StreamData'
  | 'anthropic.Root_MessageCreateParams'
  | 'anthropic.Root_ErrorResponse';

/** Fails the test with the schema's errors when `data` does not validate. */
export function expectConforms(name: SchemaName, data: unknown): void {
  validators ??= build();
  const v = validators[name] as Validate;
  const ok = v(data);
  expect(ok ? [] : v.errors, `${name}: ${JSON.stringify(data).slice(0, 400)}`).toEqual([]);
}

/** Validates `data` against an arbitrary JSON Schema (the schema a client asked its JSON to follow). */
export function schemaAccepts(schema: unknown, data: unknown): boolean {
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  addFormatsModule.default(ajv);
  return ajv.validate(schema as object, data) as boolean;
}

export interface SseEvent {
  event: string | null;
  data: string;
}

/** WHATWG event-stream parsing (comments skipped, multi-line data joined), as shared/conformance/lib-sse.mjs. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let event: string | null = null;
  let data: string[] = [];
  const flush = (): void => {
    if (data.length > 0 || event !== null) events.push({ event, data: data.join('\n') });
    event = null;
    data = [];
  };
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line === '') {
      flush();
      continue;
    }
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i === -1 ? line : line.slice(0, i);
    let value = i === -1 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  flush();
  return events;
}

/**
 * An OpenAI chat-completions SSE transcript: every `data:` is a valid chunk (or, for a failed
 * stream, ends with one error object and no `[DONE]`). Returns the chunks.
 */
export function checkOpenAITranscript(text: string, want: 'complete' | 'error'): Record<string, unknown>[] {
  const events = parseSse(text);
  const chunks: Record<string, unknown>[] = [];
  const done = events.filter((e) => e.data === '[DONE]');
  const data = events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as Record<string, unknown>);
  if (want === 'complete') {
    expect(done, 'a complete stream ends with [DONE]').toHaveLength(1);
    expect(events.at(-1)?.data).toBe('[DONE]');
  } else {
    expect(done, 'a failed stream has no [DONE]').toHaveLength(0);
    const last = data.pop();
    expectConforms('openai.ErrorResponse', last);
  }
  for (const chunk of data) {
    expectConforms('openai.CreateChatCompletionStreamResponse', chunk);
    chunks.push(chunk);
  }
  return chunks;
}

/**
 * An Anthropic Messages SSE transcript, checked as shared/conformance/validate-anthropic.mjs does:
 * event name = data.type, every payload valid, the event order of the real API, and the
 * accumulated Message valid. Returns the accumulated message (undefined for an errored stream).
 */
export function checkAnthropicTranscript(text: string, want: 'complete' | 'error'): Record<string, unknown> | undefined {
  const problems: string[] = [];
  let state: 'start' | 'in_message' | 'delta' | 'stopped' | 'errored' = 'start';
  const open = new Set<number>();
  let message: { content: Record<string, unknown>[] } & Record<string, unknown> = { content: [] };
  const partialJson = new Map<number, string>();
  parseSse(text).forEach((e, i) => {
    const data = JSON.parse(e.data) as { type: string } & Record<string, any>;
    if (e.event !== data.type) problems.push(`#${i} event name '${String(e.event)}' != data.type '${data.type}'`);
    expectConforms('anthropic.Root_StreamData', data);
    switch (data.type) {
      case 'ping':
        break;
      case 'error':
        state = 'errored';
        break;
      case 'message_start':
        if (state !== 'start') problems.push(`#${i} message_start in state ${state}`);
        state = 'in_message';
        message = structuredClone(data.message);
        break;
      case 'content_block_start':
        if (state !== 'in_message') problems.push(`#${i} content_block_start in state ${state}`);
        if (open.size > 0) problems.push(`#${i} block ${data.index} opened while ${[...open].join()} open`);
        if (data.index !== message.content.length) problems.push(`#${i} block index ${data.index} != ${message.content.length}`);
        open.add(data.index);
        message.content.push(structuredClone(data.content_block));
        break;
      case 'content_block_delta': {
        if (!open.has(data.index)) problems.push(`#${i} delta for block ${data.index} that is not open`);
        const block = message.content[data.index] as Record<string, any> | undefined;
        const d = data.delta;
        if (block && d.type === 'text_delta') block.text += d.text;
        else if (block && d.type === 'thinking_delta') block.thinking += d.thinking;
        else if (block && d.type === 'signature_delta') block.signature = d.signature;
        else if (d.type === 'input_json_delta') partialJson.set(data.index, (partialJson.get(data.index) ?? '') + d.partial_json);
        break;
      }
      case 'content_block_stop': {
        if (!open.has(data.index)) problems.push(`#${i} stop for block ${data.index} that is not open`);
        open.delete(data.index);
        const raw = partialJson.get(data.index);
        const block = message.content[data.index];
        if (raw !== undefined && block) {
          try {
            block.input = raw === '' ? {} : JSON.parse(raw);
          } catch {
            problems.push(`#${i} the input_json of block ${data.index} is not valid JSON`);
          }
        }
        break;
      }
      case 'message_delta':
        if (state !== 'in_message') problems.push(`#${i} message_delta in state ${state}`);
        if (open.size > 0) problems.push(`#${i} message_delta while block(s) ${[...open].join()} open`);
        state = 'delta';
        Object.assign(message, data.delta);
        message.usage = { ...(message.usage as object), ...data.usage };
        break;
      case 'message_stop':
        if (state !== 'delta') problems.push(`#${i} message_stop in state ${state}`);
        state = 'stopped';
        break;
      default:
        problems.push(`#${i} unknown event type ${data.type}`);
    }
  });
  expect(problems).toEqual([]);
  expect(state).toBe(want === 'complete' ? 'stopped' : 'errored');
  if (want === 'error') return undefined;
  expectConforms('anthropic.Root_Message', message);
  return message;
}

/** A `fetch` for SDK clients that keeps a copy of every response body it hands over. */
export interface Tap {
  fetch: typeof fetch;
  /** The whole text of the last response body (after the stream ended or broke). */
  last(): Promise<string>;
}

export function tapFetch(): Tap {
  const bodies: Promise<string>[] = [];
  const tapped: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    const [forClient, forTap] = res.body.tee();
    bodies.push(new Response(forTap).text().catch(() => ''));
    return new Response(forClient, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return {
    fetch: tapped,
    last: async () => (await bodies.at(-1)) ?? '',
  };
}
