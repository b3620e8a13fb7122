import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, generateText, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Scenario } from '../../../src/simulator/index.js';
import { useHarness, type Harness } from '../harness.js';
import { PROVIDERS, SAMPLED_TOOL_ARGS, TEXT, WEATHER_TOOL, expectUpstreamRequest, upstream } from './fixtures.js';

/**
 * Real SDK round trips with the gateway as their base URL, each served by a fallback in another
 * wire format than the failed primary: Vercel AI SDK (openai-compatible and anthropic providers),
 * LangChain's ChatOpenAI. Who served is read from the request record and the simulator's calls.
 */
const SIM_MODELS: Record<string, Scenario> = {
  down: { kind: 'status', status: 503 },
  cut: { kind: 'cut', after_chunks: 0 },
  /** Plain text; a call of the forced tool (arguments sampled from its schema) when the request forces one. */
  text: { kind: 'ok', text: TEXT, chunks: 3 },
  json: { kind: 'json' },
};

/** `<primary wire>-<fallback wire>`: the primary fails before any content, the fallback serves `model`. */
function fallbackRoute(primary: string, fallback: string, model: string, failure: 'down' | 'cut' = 'down'): Record<string, unknown> {
  return { ladder: [{ targets: [`${primary}/${failure}`], retries: 0 }, { targets: [`${fallback}/${model}`] }] };
}

const ROUTES = {
  'oa-an-text': fallbackRoute('oa', 'an', 'text'),
  'oa-ge-text': fallbackRoute('oa', 'ge', 'text', 'cut'),
  'an-ge-text': fallbackRoute('an', 'ge', 'text'),
  'ge-an-text': fallbackRoute('ge', 'an', 'text', 'cut'),
  'an-oa-text': fallbackRoute('an', 'oa', 'text'),
  'oa-an-json': fallbackRoute('oa', 'an', 'json'),
  'oa-ge-json': fallbackRoute('oa', 'ge', 'json'),
  'az-an-text': fallbackRoute('az', 'an', 'text'),
};

const weatherInput = z.object({ city: z.string().describe('City name'), unit: z.enum(['celsius', 'fahrenheit']) });

describe('SDK round trips through cross-format fallbacks', () => {
  const start = useHarness();
  const setup = (): Promise<Harness> => start({ simulators: { sim: SIM_MODELS }, providers: PROVIDERS, routes: ROUTES });

  /** The request was served by `servedBy` after its primary failed, and the upstreams saw their own formats. */
  async function expectServedAfterFallback(h: Harness, servedBy: string, formats: string[]): Promise<void> {
    const record = await h.record();
    expect(record.servedBy).toBe(servedBy);
    expect(record.attempts.map((a) => a.outcome === 'ok')).toEqual([false, true]);
    expect(h.sims['sim']?.calls.map((c) => c.format)).toEqual(formats);
  }

  describe('Vercel AI SDK, @ai-sdk/openai-compatible on /v1/chat/completions', () => {
    const provider = (h: Harness, structured = false) =>
      createOpenAICompatible({ name: 'understudy', baseURL: h.gateway.url, apiKey: 'client-key', includeUsage: true, supportsStructuredOutputs: structured });

    it('generateText: OpenAI-wire primary down, Anthropic-wire fallback', async () => {
      const h = await setup();
      const result = await generateText({ model: provider(h).chatModel('oa-an-text'), prompt: 'Say something.', maxRetries: 0 });
      expect(result.text).toBe(TEXT);
      expect(result.finishReason).toBe('stop');
      expect(result.response.modelId).toBe('text');
      expect(result.response.headers?.['x-understudy-served-by']).toBe('an/text');
      expect(result.usage.outputTokens).toBeGreaterThan(0);
      await expectServedAfterFallback(h, 'an/text', ['openai', 'anthropic']);
    });

    it('streamText: OpenAI-wire primary cut before content, Gemini fallback', async () => {
      const h = await setup();
      const result = streamText({ model: provider(h).chatModel('oa-ge-text'), prompt: 'Say something.', maxRetries: 0 });
      let text = '';
      for await (const delta of result.textStream) text += delta;
      expect(text).toBe(TEXT);
      expect(await result.finishReason).toBe('stop');
      expect((await result.response).headers?.['x-understudy-served-by']).toBe('ge/text');
      await expectServedAfterFallback(h, 'ge/text', ['openai', 'gemini']);
    });

    it('generateText with tools + toolChoice: Anthropic-wire primary down, Gemini fallback calls the tool', async () => {
      const h = await setup();
      const result = await generateText({
        model: provider(h).chatModel('an-ge-text'),
        prompt: 'Weather in Paris?',
        tools: { get_weather: tool({ description: WEATHER_TOOL.description, inputSchema: weatherInput }) },
        toolChoice: { type: 'tool', toolName: 'get_weather' },
        maxRetries: 0,
      });
      expect(result.finishReason).toBe('tool-calls');
      expect(result.toolCalls).toHaveLength(1);
      expect(result.toolCalls[0]).toMatchObject({ type: 'tool-call', toolName: 'get_weather', input: SAMPLED_TOOL_ARGS });
      expect(result.toolCalls[0]?.toolCallId).toMatch(/^call_[0-9a-f]{24}$/);
      await expectServedAfterFallback(h, 'ge/text', ['anthropic', 'gemini']);
      const body = expectUpstreamRequest(h.sims['sim']?.calls[1], upstream('gemini'), 'text', true);
      expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    });

    it('streamText with tools + toolChoice: Gemini primary cut, Anthropic-wire fallback streams the tool call', async () => {
      const h = await setup();
      const result = streamText({
        model: provider(h).chatModel('ge-an-text'),
        prompt: 'Weather in Paris?',
        tools: { get_weather: tool({ description: WEATHER_TOOL.description, inputSchema: weatherInput }) },
        toolChoice: { type: 'tool', toolName: 'get_weather' },
        maxRetries: 0,
      });
      const calls = await result.toolCalls;
      expect(await result.finishReason).toBe('tool-calls');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ toolName: 'get_weather', input: SAMPLED_TOOL_ARGS, toolCallId: expect.stringMatching(/^toolu_/) });
      await expectServedAfterFallback(h, 'an/text', ['gemini', 'anthropic']);
    });

    const report = z.object({ city: z.literal('Paris'), temperature_c: z.number().int().min(18).max(40), conditions: z.enum(['sunny', 'cloudy']) });

    it.each([
      { route: 'oa-an-json', servedBy: 'an/json', formats: ['openai', 'anthropic'] },
      { route: 'oa-ge-json', servedBy: 'ge/json', formats: ['openai', 'gemini'] },
    ])('generateObject with a zod schema: OpenAI-wire primary down, served by $servedBy', async ({ route, servedBy, formats }) => {
      const h = await setup();
      const result = await generateObject({ model: provider(h, true).chatModel(route), schema: report, schemaName: 'weather_report', prompt: 'Weather report for Paris.', maxRetries: 0 });
      expect(result.object).toEqual({ city: 'Paris', temperature_c: 18, conditions: 'sunny' });
      expect(report.safeParse(result.object).success).toBe(true);
      expect(result.finishReason).toBe('stop');
      await expectServedAfterFallback(h, servedBy, formats);
    });
  });

  describe('Vercel AI SDK, @ai-sdk/anthropic on /v1/messages', () => {
    const provider = (h: Harness) => createAnthropic({ baseURL: `${h.origin}/v1`, apiKey: 'client-key' });

    it('generateText: Anthropic-wire primary down, OpenAI-wire fallback', async () => {
      const h = await setup();
      const result = await generateText({ model: provider(h)('an-oa-text'), prompt: 'Say something.', maxRetries: 0 });
      expect(result.text).toBe(TEXT);
      expect(result.finishReason).toBe('stop');
      expect(result.response.modelId).toBe('text');
      expect(result.response.headers?.['x-understudy-served-by']).toBe('oa/text');
      await expectServedAfterFallback(h, 'oa/text', ['anthropic', 'openai']);
    });

    it('streamText: Azure OpenAI primary down, Anthropic-wire fallback (pass-through is not used for a translated request)', async () => {
      const h = await setup();
      const result = streamText({ model: provider(h)('az-an-text'), prompt: 'Say something.', maxRetries: 0 });
      let text = '';
      for await (const delta of result.textStream) text += delta;
      expect(text).toBe(TEXT);
      expect(await result.finishReason).toBe('stop');
      await expectServedAfterFallback(h, 'an/text', ['openai', 'anthropic']);
    });

    it('streamText with tools + toolChoice: Anthropic-wire primary down, Gemini fallback calls the tool', async () => {
      const h = await setup();
      const result = streamText({
        model: provider(h)('an-ge-text'),
        prompt: 'Weather in Paris?',
        tools: { get_weather: tool({ description: WEATHER_TOOL.description, inputSchema: weatherInput }) },
        toolChoice: { type: 'tool', toolName: 'get_weather' },
        maxRetries: 0,
      });
      const calls = await result.toolCalls;
      expect(await result.finishReason).toBe('tool-calls');
      expect(calls).toEqual([expect.objectContaining({ toolName: 'get_weather', input: SAMPLED_TOOL_ARGS, toolCallId: expect.stringMatching(/^call_/) })]);
      await expectServedAfterFallback(h, 'ge/text', ['anthropic', 'gemini']);
    });
  });

  describe('LangChain ChatOpenAI', () => {
    const chat = (h: Harness, route: string) => new ChatOpenAI({ model: route, apiKey: 'client-key', maxRetries: 0, configuration: { baseURL: h.gateway.url } });

    it('invoke: OpenAI-wire primary down, Anthropic-wire fallback', async () => {
      const h = await setup();
      const message = await chat(h, 'oa-an-text').invoke('Say something.');
      expect(message.content).toBe(TEXT);
      expect(message.response_metadata).toMatchObject({ model_name: 'text', finish_reason: 'stop' });
      await expectServedAfterFallback(h, 'an/text', ['openai', 'anthropic']);
    });

    it('stream: Gemini primary cut before content, Anthropic-wire fallback', async () => {
      const h = await setup();
      let text = '';
      let chunks = 0;
      for await (const chunk of await chat(h, 'ge-an-text').stream('Say something.')) {
        text += typeof chunk.content === 'string' ? chunk.content : '';
        chunks++;
      }
      expect(text).toBe(TEXT);
      expect(chunks).toBeGreaterThan(1);
      await expectServedAfterFallback(h, 'an/text', ['gemini', 'anthropic']);
    });

    it('bindTools + a forced tool: Anthropic-wire primary down, Gemini fallback', async () => {
      const h = await setup();
      const model = chat(h, 'an-ge-text').bindTools([{ type: 'function', function: WEATHER_TOOL }], { tool_choice: 'get_weather' });
      const message = await model.invoke('Weather in Paris?');
      expect(message.tool_calls).toEqual([{ type: 'tool_call', name: 'get_weather', args: SAMPLED_TOOL_ARGS, id: expect.stringMatching(/^call_[0-9a-f]{24}$/) }]);
      expect(message.response_metadata).toMatchObject({ finish_reason: 'tool_calls' });
      await expectServedAfterFallback(h, 'ge/text', ['anthropic', 'gemini']);
    });

    it('bindTools, streamed: OpenAI-wire primary down, Anthropic-wire fallback', async () => {
      const h = await setup();
      const model = chat(h, 'oa-an-text').bindTools([{ type: 'function', function: WEATHER_TOOL }], { tool_choice: 'get_weather' });
      let merged: Awaited<ReturnType<typeof model.invoke>> | undefined;
      for await (const chunk of await model.stream('Weather in Paris?')) merged = merged === undefined ? chunk : merged.concat(chunk);
      expect(merged?.tool_calls).toEqual([expect.objectContaining({ name: 'get_weather', args: SAMPLED_TOOL_ARGS, id: expect.stringMatching(/^toolu_/) })]);
      await expectServedAfterFallback(h, 'an/text', ['openai', 'anthropic']);
    });
  });
});
