import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../../src/simulator/index.js';
import { MODES, useHarness, type Harness } from '../harness.js';
import { anthropicMessage, clientsFor, openAIChat } from './clients.js';
import {
  PROVIDERS,
  QUESTION,
  TEXT,
  TOOL_ARGS,
  WEATHER_PARAMS,
  WEATHER_TOOL,
  anthropicRequest,
  expectUpstreamRequest,
  openAIRequest,
  upstream,
} from './fixtures.js';

/**
 * Fallback across wire formats within one request, and a tool-call conversation whose turns are
 * served by different wire formats: the client always gets its own format, and tool-call ids and
 * names survive every translation.
 */
const SIM_MODELS: Record<string, Scenario> = {
  down: { kind: 'status', status: 503 },
  /** The stream breaks before any content (the role chunk / message_start only). */
  cut: { kind: 'cut', after_chunks: 0 },
  tool: { kind: 'tool_call', arguments: TOOL_ARGS },
  text: { kind: 'ok', text: TEXT, chunks: 3 },
};

const ROUTES = {
  'openai-503-then-anthropic': { ladder: [{ targets: ['oa/down'], retries: 0 }, { targets: ['an/tool'] }] },
  'openai-cut-then-anthropic': { ladder: [{ targets: ['oa/cut'], retries: 0 }, { targets: ['an/tool'] }] },
  'anthropic-503-then-gemini': { ladder: [{ targets: ['an/down'], retries: 0 }, { targets: ['ge/tool'] }] },
  'gemini-cut-then-openai': { ladder: [{ targets: ['ge/cut'], retries: 0 }, { targets: ['oa/text'] }] },
};

describe('fallback across wire formats', () => {
  const start = useHarness();
  const setup = (): Promise<Harness> => start({ simulators: { sim: SIM_MODELS }, providers: PROVIDERS, routes: ROUTES });

  const OPENAI_PRIMARIES = [
    { route: 'openai-503-then-anthropic', reason: 'overloaded' },
    { route: 'openai-cut-then-anthropic', reason: 'stream_cut' },
  ];

  describe.each(MODES)('%s', (mode) => {
    it.each(OPENAI_PRIMARIES)('OpenAI client, OpenAI-wire primary fails ($reason), the Anthropic-wire fallback serves a tool call', async ({ route, reason }) => {
      const h = await setup();
      const c = clientsFor(h);
      const { headers, completion } = await openAIChat(c, mode, openAIRequest(route, 'tool'));
      expect(headers.get('x-understudy-served-by')).toBe('an/tool');
      expect(headers.get('x-understudy-attempts')).toBe('2');
      expect(headers.get('x-understudy-fallback-reason')).toBe(reason);
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.tool_calls).toEqual([
        { id: expect.stringMatching(/^toolu_/), type: 'function', function: { name: 'get_weather', arguments: expect.any(String) } },
      ]);
      const call = choice?.message.tool_calls?.[0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      expect(JSON.parse(call.function.arguments)).toEqual(TOOL_ARGS);
      expect(completion.model).toBe('tool');

      const calls = h.sims['sim']?.calls ?? [];
      expect(calls.map((x) => [x.format, x.model])).toEqual([
        ['openai', route.includes('cut') ? 'cut' : 'down'],
        ['anthropic', 'tool'],
      ]);
      const body = expectUpstreamRequest(calls[1], upstream('anthropic'), 'tool', true);
      expect(body.tool_choice).toMatchObject({ type: 'tool', name: 'get_weather' });
    });

    it('Anthropic client, Anthropic-wire (pass-through) primary is down, the Gemini fallback serves a tool_use block', async () => {
      const h = await setup();
      const c = clientsFor(h);
      const { headers, message } = await anthropicMessage(c, mode, anthropicRequest('anthropic-503-then-gemini', 'tool'));
      expect(headers.get('x-understudy-served-by')).toBe('ge/tool');
      expect(headers.get('x-understudy-fallback-reason')).toBe('overloaded');
      expect(message.model).toBe('tool');
      expect(message.stop_reason).toBe('tool_use');
      // Gemini has no call ids: the gateway generates one, in the block Anthropic clients expect.
      expect(message.content).toEqual([{ type: 'tool_use', id: expect.stringMatching(/^call_[0-9a-f]{24}$/), name: 'get_weather', input: TOOL_ARGS, caller: { type: 'direct' } }]);
      const calls = h.sims['sim']?.calls ?? [];
      expect(calls.map((x) => [x.format, x.model])).toEqual([
        ['anthropic', 'down'],
        ['gemini', 'tool'],
      ]);
      const body = expectUpstreamRequest(calls[1], upstream('gemini'), 'tool', true);
      expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    });

    it('Anthropic client, Gemini primary cut before content, the OpenAI-wire fallback answers in text', async () => {
      const h = await setup();
      const c = clientsFor(h);
      const { headers, message } = await anthropicMessage(c, mode, anthropicRequest('gemini-cut-then-openai', 'text'));
      expect(headers.get('x-understudy-served-by')).toBe('oa/text');
      expect(headers.get('x-understudy-fallback-reason')).toBe('stream_cut');
      expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: TEXT })]);
      expect(message.stop_reason).toBe('end_turn');
      expect((h.sims['sim']?.calls ?? []).map((x) => x.format)).toEqual(['gemini', 'openai']);
    });
  });
});

describe('a tool-call conversation continued across formats', () => {
  const start = useHarness();
  const TOOL_RESULT = '{"temperature_c":18,"conditions":"sunny"}';

  /** Turn 1 is served by `first`; then `first` goes down and turn 2 falls back to `second`. */
  async function conversation(first: 'ge' | 'an' | 'oa', second: 'ge' | 'an' | 'oa'): Promise<Harness> {
    return start({
      simulators: { sim: { first: { kind: 'tool_call', arguments: TOOL_ARGS }, second: { kind: 'ok', text: TEXT } } },
      providers: PROVIDERS,
      routes: { conv: { ladder: [{ targets: [`${first}/first`], retries: 0 }, { targets: [`${second}/second`] }] } },
    });
  }

  describe.each(MODES)('%s', (mode) => {
    it('OpenAI client: turn 1 from Gemini (generated id), turn 2 from Anthropic gets that id as tool_use / tool_result', async () => {
      const h = await conversation('ge', 'an');
      const c = clientsFor(h);
      const turn1 = await openAIChat(c, mode, openAIRequest('conv', 'tool'));
      expect(turn1.headers.get('x-understudy-served-by')).toBe('ge/first');
      const call = turn1.completion.choices[0]?.message.tool_calls?.[0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
      expect(JSON.parse(call.function.arguments)).toEqual(TOOL_ARGS);

      h.sims['sim']?.setModel('first', { kind: 'status', status: 503 });
      const turn2 = await openAIChat(c, mode, {
        model: 'conv',
        tools: [{ type: 'function', function: WEATHER_TOOL }],
        messages: [
          { role: 'user', content: QUESTION },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT },
        ],
      });
      expect(turn2.headers.get('x-understudy-served-by')).toBe('an/second');
      expect(turn2.completion.choices[0]?.message.content).toBe(TEXT);

      const calls = h.sims['sim']?.calls ?? [];
      expect(calls.map((x) => [x.format, x.model])).toEqual([
        ['gemini', 'first'],
        ['gemini', 'first'],
        ['anthropic', 'second'],
      ]);
      // The failed Gemini attempt of turn 2 named the function of the tool result (Gemini matches by name).
      const gemini = expectUpstreamRequest(calls[1], upstream('gemini'), 'first', true);
      expect(gemini.contents).toEqual([
        { role: 'user', parts: [{ text: QUESTION }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: TOOL_ARGS } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: JSON.parse(TOOL_RESULT) } }] },
      ]);
      const anthropic = expectUpstreamRequest(calls[2], upstream('anthropic'), 'second', true);
      expect(anthropic.messages).toEqual([
        { role: 'user', content: QUESTION },
        { role: 'assistant', content: [{ type: 'tool_use', id: call.id, name: 'get_weather', input: TOOL_ARGS }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: TOOL_RESULT }] },
      ]);
    });

    it('OpenAI client: turn 1 from Anthropic (toolu_ id), turn 2 from Gemini resolves the function name from that id', async () => {
      const h = await conversation('an', 'ge');
      const c = clientsFor(h);
      const turn1 = await openAIChat(c, mode, openAIRequest('conv', 'tool'));
      const call = turn1.completion.choices[0]?.message.tool_calls?.[0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      expect(call.id).toMatch(/^toolu_/);

      h.sims['sim']?.setModel('first', { kind: 'status', status: 503 });
      const turn2 = await openAIChat(c, mode, {
        model: 'conv',
        messages: [
          { role: 'user', content: QUESTION },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: 'It is 18 degrees and sunny.' },
        ],
      });
      expect(turn2.headers.get('x-understudy-served-by')).toBe('ge/second');
      expect(turn2.completion.choices[0]?.message.content).toBe(TEXT);
      const calls = h.sims['sim']?.calls ?? [];
      const gemini = expectUpstreamRequest(calls[2], upstream('gemini'), 'second', true);
      expect(gemini.contents).toEqual([
        { role: 'user', parts: [{ text: QUESTION }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: TOOL_ARGS } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: 'It is 18 degrees and sunny.' } } }] },
      ]);
    });

    it('Anthropic client: turn 1 from Gemini, turn 2 from the OpenAI wire carries the tool_use id as tool_call_id', async () => {
      const h = await conversation('ge', 'oa');
      const c = clientsFor(h);
      const turn1 = await anthropicMessage(c, mode, anthropicRequest('conv', 'tool'));
      expect(turn1.headers.get('x-understudy-served-by')).toBe('ge/first');
      const block = turn1.message.content[0] as Anthropic.ToolUseBlock;
      expect(block).toMatchObject({ type: 'tool_use', name: 'get_weather', input: TOOL_ARGS });

      h.sims['sim']?.setModel('first', { kind: 'status', status: 503 });
      const turn2 = await anthropicMessage(c, mode, {
        model: 'conv',
        max_tokens: 256,
        tools: [{ name: 'get_weather', description: WEATHER_TOOL.description, input_schema: { ...WEATHER_PARAMS, type: 'object' } }],
        messages: [
          { role: 'user', content: QUESTION },
          { role: 'assistant', content: [block] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: block.id, content: TOOL_RESULT }] },
        ],
      });
      expect(turn2.headers.get('x-understudy-served-by')).toBe('oa/second');
      expect(turn2.message.content).toEqual([expect.objectContaining({ type: 'text', text: TEXT })]);
      const calls = h.sims['sim']?.calls ?? [];
      const openai = expectUpstreamRequest(calls[2], upstream('openai'), 'second', true);
      expect(openai.messages).toEqual([
        { role: 'user', content: QUESTION },
        { role: 'assistant', content: null, tool_calls: [{ id: block.id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(TOOL_ARGS) } }] },
        { role: 'tool', tool_call_id: block.id, content: TOOL_RESULT },
      ]);
    });
  });
});
