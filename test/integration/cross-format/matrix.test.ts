import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { useHarness, type Harness, type Mode } from '../harness.js';
import { anthropicMessage, clientsFor, openAIChat } from './clients.js';
import { schemaAccepts } from './conformance.js';
import {
  CONTENTS,
  MODELS,
  PROVIDERS,
  REPORT,
  REPORT_SCHEMA,
  TEXT,
  TOOL_ARGS,
  UPSTREAMS,
  anthropicRequest,
  expectUpstreamAsks,
  expectUpstreamRequest,
  modelFor,
  openAIRequest,
  type Content,
  type Upstream,
} from './fixtures.js';

/**
 * The cross-format matrix: inbound API (official openai / @anthropic-ai/sdk clients) × upstream
 * wire (OpenAI, Azure OpenAI, Anthropic, Gemini — one simulator) × content (text, a forced named
 * tool call, JSON schema output) × delivery (stream; non-stream from a streamed upstream;
 * non-stream from a whole upstream response). Each case checks what the client got (valid in its
 * own format, the tool call or JSON exactly as the simulator produced it), who served it, and
 * that the upstream received a valid request of its own format asking for the same thing.
 *
 * JSON schema on the Anthropic inbound API is `output_config.format` (structured outputs, typed
 * in @anthropic-ai/sdk 1.x): the Messages API's own equivalent of `response_format`.
 */
type Inbound = 'openai' | 'anthropic';

/** Client mode, and whether the upstream is asked for a stream (stream_upstream) or a whole response. */
const DELIVERIES = [
  { mode: 'stream', upstreamStreams: true, label: 'stream' },
  { mode: 'non-stream', upstreamStreams: true, label: 'non-stream (upstream streamed)' },
  { mode: 'non-stream', upstreamStreams: false, label: 'non-stream (upstream whole)' },
] as const satisfies readonly { mode: Mode; upstreamStreams: boolean; label: string }[];

interface Case {
  name: string;
  inbound: Inbound;
  up: Upstream;
  content: Content;
  mode: Mode;
  /** The provider (streaming upstream, or its `-whole` twin). */
  provider: string;
}

const CASES: Case[] = (['openai', 'anthropic'] as const).flatMap((inbound) =>
  UPSTREAMS.flatMap((up) =>
    CONTENTS.flatMap((content) =>
      DELIVERIES.map(({ mode, upstreamStreams, label }) => ({
        name: `${inbound} client → ${up.type} upstream: ${content}, ${label}`,
        inbound,
        up,
        content,
        mode,
        provider: upstreamStreams ? up.provider : `${up.provider}-whole`,
      })),
    ),
  ),
);

const ROUTES = Object.fromEntries(
  Object.keys(PROVIDERS).flatMap((provider) => CONTENTS.map((content) => [`${provider}-${content}`, { ladder: [{ targets: [`${provider}/${modelFor(content)}`] }] }])),
);

describe('cross-format matrix', () => {
  const start = useHarness();

  const setup = (): Promise<Harness> => start({ simulators: { sim: MODELS }, providers: PROVIDERS, routes: ROUTES });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, { inbound, up, content, mode, provider }) => {
    const h = await setup();
    const c = clientsFor(h);
    const route = `${provider}-${content}`;
    const model = modelFor(content);

    if (inbound === 'openai') {
      const { headers, completion } = await openAIChat(c, mode, openAIRequest(route, content));
      expect(headers.get('x-understudy-served-by')).toBe(`${provider}/${model}`);
      expect(headers.get('x-understudy-attempts')).toBe('1');
      expect(completion.model).toBe(model);
      expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
      const choice = completion.choices[0];
      const message = choice?.message;
      if (content === 'text') {
        expect(message?.content).toBe(TEXT);
        expect(choice?.finish_reason).toBe('stop');
      } else if (content === 'tool') {
        expect(message?.tool_calls).toHaveLength(1);
        const call = message?.tool_calls?.[0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
        expect(call.type).toBe('function');
        expect(call.id).toMatch(/\S/);
        expect(call.function.name).toBe('get_weather');
        expect(JSON.parse(call.function.arguments)).toEqual(TOOL_ARGS);
        expect(message?.content ?? '').toBe('');
        expect(choice?.finish_reason).toBe('tool_calls');
      } else {
        const json = JSON.parse(message?.content ?? '') as unknown;
        expect(json).toEqual(REPORT);
        expect(schemaAccepts(REPORT_SCHEMA, json)).toBe(true);
        expect(message?.tool_calls ?? []).toEqual([]);
        expect(choice?.finish_reason).toBe('stop');
      }
    } else {
      const { headers, message } = await anthropicMessage(c, mode, anthropicRequest(route, content));
      expect(headers.get('x-understudy-served-by')).toBe(`${provider}/${model}`);
      expect(headers.get('x-understudy-attempts')).toBe('1');
      expect(message.model).toBe(model);
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      if (content === 'text') {
        expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: TEXT })]);
        expect(message.stop_reason).toBe('end_turn');
      } else if (content === 'tool') {
        expect(message.content).toHaveLength(1);
        const block = message.content[0] as Anthropic.ToolUseBlock;
        expect(block.type).toBe('tool_use');
        expect(block.id).toMatch(/\S/);
        expect(block.name).toBe('get_weather');
        expect(block.input).toEqual(TOOL_ARGS);
        expect(message.stop_reason).toBe('tool_use');
      } else {
        expect(message.content).toHaveLength(1);
        const block = message.content[0] as Anthropic.TextBlock;
        expect(block.type).toBe('text');
        const json = JSON.parse(block.text) as unknown;
        expect(json).toEqual(REPORT);
        expect(schemaAccepts(REPORT_SCHEMA, json)).toBe(true);
        expect(message.stop_reason).toBe('end_turn');
      }
    }

    const sim = h.sims['sim'];
    expect(sim?.calls).toHaveLength(1);
    const body = expectUpstreamRequest(sim?.calls[0], up, model, provider === up.provider, provider);
    expectUpstreamAsks(body, up.format, content, inbound);
    const record = await h.record();
    expect(record.servedBy).toBe(`${provider}/${model}`);
  });
});
