/**
 * One request through each official SDK, stream or not, reduced to what the client ended up with:
 * the served-by headers and the assembled message in the client's own format. Streams are also
 * checked byte-for-byte (via a tapping fetch) against the inbound API's schemas and event rules.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { expect } from 'vitest';
import type { Harness, Mode } from '../harness.js';
import { checkAnthropicTranscript, checkOpenAITranscript, expectConforms, tapFetch, type Tap } from './conformance.js';

export interface Clients {
  openai: OpenAI;
  anthropic: Anthropic;
  tap: Tap;
}

export function clientsFor(h: Harness): Clients {
  const tap = tapFetch();
  return {
    tap,
    openai: new OpenAI({ baseURL: h.gateway.url, apiKey: 'client-key', maxRetries: 0, timeout: 20_000, fetch: tap.fetch }),
    anthropic: new Anthropic({ baseURL: h.origin, apiKey: 'client-key', maxRetries: 0, timeout: 20_000, fetch: tap.fetch }),
  };
}

export interface OpenAIResult {
  headers: Headers;
  completion: OpenAI.Chat.Completions.ChatCompletion;
}

type ChatParams = Omit<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, 'stream'>;

/**
 * An OpenAI chat completion, whole or assembled from a stream whose every chunk (and whose
 * assembled completion) validates against OpenAI's schema.
 */
export async function openAIChat(c: Clients, mode: Mode, params: ChatParams): Promise<OpenAIResult> {
  if (mode === 'non-stream') {
    const { data, response } = await c.openai.chat.completions.create({ ...params, stream: false }).withResponse();
    expectConforms('openai.CreateChatCompletionResponse', data);
    return { headers: response.headers, completion: data };
  }
  const { data: stream, response } = await c.openai.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }).withResponse();
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const raw = checkOpenAITranscript(await c.tap.last(), 'complete');
  expect(raw).toHaveLength(chunks.length);
  const completion = assemble(chunks);
  expectConforms('openai.CreateChatCompletionResponse', completion);
  return { headers: response.headers, completion };
}

/** Chunks → the ChatCompletion they add up to (tool calls by index: id and name once, arguments appended). */
export function assemble(chunks: OpenAI.Chat.Completions.ChatCompletionChunk[]): OpenAI.Chat.Completions.ChatCompletion {
  const first = chunks[0];
  if (!first) throw new Error('empty stream');
  let content: string | null = null;
  let finish: OpenAI.Chat.Completions.ChatCompletion.Choice['finish_reason'] | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  const calls = new Map<number, { id: string; type: 'function'; function: { name: string; arguments: string } }>();
  for (const chunk of chunks) {
    expect(chunk.model).toBe(first.model);
    expect(chunk.id).toBe(first.id);
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (typeof choice.delta.content === 'string') content = (content ?? '') + choice.delta.content;
    for (const d of choice.delta.tool_calls ?? []) {
      const call = calls.get(d.index);
      if (!call) {
        // A call's first delta carries its id, type and name.
        expect(d.id, 'the first delta of a tool call has its id').toBeTruthy();
        expect(d.function?.name, 'the first delta of a tool call has its name').toBeTruthy();
        calls.set(d.index, { id: d.id ?? '', type: 'function', function: { name: d.function?.name ?? '', arguments: d.function?.arguments ?? '' } });
      } else {
        if (d.id) expect(d.id).toBe(call.id);
        call.function.arguments += d.function?.arguments ?? '';
      }
    }
    if (choice.finish_reason) {
      expect(finish, 'one finish_reason per choice').toBeNull();
      finish = choice.finish_reason;
    }
  }
  expect(finish, 'a completed stream has a finish_reason').not.toBeNull();
  const message: OpenAI.Chat.Completions.ChatCompletionMessage = { role: 'assistant', content, refusal: null };
  if (calls.size > 0) message.tool_calls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  return {
    id: first.id,
    object: 'chat.completion',
    created: first.created,
    model: first.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish ?? 'stop' }],
    ...(usage ? { usage } : {}),
  };
}

export interface AnthropicResult {
  headers: Headers;
  message: Anthropic.Message;
}

type MessageParams = Omit<Anthropic.MessageCreateParamsNonStreaming, 'stream'>;

/**
 * An Anthropic message, whole or streamed: a stream's transcript passes the event-order rules
 * and schemas of shared/conformance, and the SDK's accumulated message equals the transcript's.
 */
export async function anthropicMessage(c: Clients, mode: Mode, params: MessageParams): Promise<AnthropicResult> {
  if (mode === 'non-stream') {
    const { data, response } = await c.anthropic.messages.create({ ...params, stream: false }).withResponse();
    expectConforms('anthropic.Root_Message', data);
    return { headers: response.headers, message: data };
  }
  const stream = c.anthropic.messages.stream(params);
  const { response } = await stream.withResponse();
  const message = await stream.finalMessage();
  const accumulated = checkAnthropicTranscript(await c.tap.last(), 'complete');
  expect(accumulated).toMatchObject({ content: message.content, stop_reason: message.stop_reason, model: message.model });
  expectConforms('anthropic.Root_Message', message);
  return { headers: response.headers, message };
}
