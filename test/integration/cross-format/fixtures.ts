/**
 * What the cross-format suites share: the upstream wires a provider can speak (all served by one
 * simulator), the tool and JSON schema every case asks for, and checks of what the simulator
 * received in each upstream's own format.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { expect } from 'vitest';
import type { SimulatorCall, SimulatorFormat } from '../../../src/simulator/index.js';
import type { ProviderSpec, ProviderType } from '../harness.js';
import { expectConforms } from './conformance.js';

export interface Upstream {
  /** Config `type:` of the provider. */
  type: ProviderType;
  /** Provider name in the harness config. */
  provider: string;
  /** The wire format the simulator sees. */
  format: SimulatorFormat;
  /** The request header that carries this provider's key. */
  authHeader: string;
}

export const UPSTREAMS: readonly Upstream[] = [
  { type: 'openai', provider: 'oa', format: 'openai', authHeader: 'authorization' },
  { type: 'azure-openai', provider: 'az', format: 'openai', authHeader: 'api-key' },
  { type: 'anthropic', provider: 'an', format: 'anthropic', authHeader: 'x-api-key' },
  { type: 'gemini', provider: 'ge', format: 'gemini', authHeader: 'x-goog-api-key' },
];

export function upstream(type: ProviderType): Upstream {
  const found = UPSTREAMS.find((u) => u.type === type);
  if (!found) throw new Error(`no upstream of type ${type}`);
  return found;
}

/**
 * One provider per upstream wire, all on the simulator named `sim`; `<provider>-whole` is the same
 * endpoint with `stream_upstream: false` (non-streaming clients then get the upstream's whole
 * response translated, instead of its stream assembled).
 */
export const PROVIDERS: Record<string, ProviderSpec> = Object.fromEntries(
  UPSTREAMS.flatMap((u) => [
    [u.provider, { simulator: 'sim', type: u.type }],
    [`${u.provider}-whole`, { simulator: 'sim', type: u.type, stream_upstream: false }],
  ]),
);

export const TEXT = 'Cross-format answers keep every word in order.';
export const SYSTEM = 'Be brief.';
export const QUESTION = 'What is the weather in Paris?';

export const WEATHER_PARAMS = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'City name' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
  },
  required: ['city', 'unit'],
  additionalProperties: false,
};
export const WEATHER_TOOL = { name: 'get_weather', description: 'Current weather for a city', parameters: WEATHER_PARAMS };
/** The arguments the simulator's `tool_call` scenario answers with. */
export const TOOL_ARGS = { city: 'Paris', unit: 'celsius' };
/** What the simulator derives from WEATHER_PARAMS when the `ok` scenario is forced to call the tool. */
export const SAMPLED_TOOL_ARGS = { city: 'example', unit: 'celsius' };

/** A schema whose only valid sample is REPORT (const, minimum, enum), so the answer is known exactly. */
export const REPORT_SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string', const: 'Paris' },
    temperature_c: { type: 'integer', minimum: 18, maximum: 40 },
    conditions: { type: 'string', enum: ['sunny', 'cloudy'] },
  },
  required: ['city', 'temperature_c', 'conditions'],
  additionalProperties: false,
};
export const REPORT = { city: 'Paris', temperature_c: 18, conditions: 'sunny' };

export type Content = 'text' | 'tool' | 'json';
export const CONTENTS: readonly Content[] = ['text', 'tool', 'json'];

/** Simulator models, one per content kind (the same model id answers in every wire format). */
export const MODELS = {
  'm-text': { kind: 'ok', text: TEXT, chunks: 4 },
  'm-tool': { kind: 'tool_call', arguments: TOOL_ARGS },
  'm-json': { kind: 'json' },
} as const;

export function modelFor(content: Content): keyof typeof MODELS {
  return `m-${content}`;
}

/** The one simulator call of a request, checked against the upstream's own request schema and auth slot. */
export function expectUpstreamRequest(call: SimulatorCall | undefined, up: Upstream, model: string, stream: boolean, provider = up.provider): Record<string, any> {
  expect(call, `a ${up.format} request to the simulator`).toBeDefined();
  const c = call as SimulatorCall;
  expect(c.format).toBe(up.format);
  expect(c.model).toBe(model);
  expect(c.stream).toBe(stream);
  const key = c.headers[up.authHeader] ?? '';
  expect(key.replace(/^Bearer /, '')).toBe(`sk-test-${provider}-secret`);
  if (up.type === 'azure-openai') expect(c.headers['authorization']).toBeUndefined();
  switch (up.format) {
    case 'openai':
      expectConforms('openai.CreateChatCompletionRequest', c.body);
      break;
    case 'anthropic':
      expectConforms('anthropic.Root_MessageCreateParams', c.body);
      expect(c.headers['anthropic-version']).toBeTruthy();
      break;
    case 'gemini':
      expectConforms('gemini.GenerateContentRequest', c.body);
      break;
  }
  return c.body as Record<string, any>;
}

/**
 * The upstream body asks for `content` in the upstream's own terms. An Anthropic client served by
 * an Anthropic upstream is a same-format pass-through: the upstream gets the client's own body.
 */
export function expectUpstreamAsks(body: Record<string, any>, format: SimulatorFormat, content: Content, inbound: 'openai' | 'anthropic'): void {
  if (inbound === 'anthropic' && format === 'anthropic') {
    expect(body.system).toBe(SYSTEM);
    expect(body.messages).toEqual([{ role: 'user', content: QUESTION }]);
    if (content === 'tool') {
      expect(body.tools).toEqual([{ name: 'get_weather', description: WEATHER_TOOL.description, input_schema: WEATHER_PARAMS }]);
      expect(body.tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
    }
    if (content === 'json') {
      expect(body.output_config).toEqual({ format: { type: 'json_schema', schema: REPORT_SCHEMA } });
      expect(body.tools).toBeUndefined();
    }
    return;
  }
  switch (format) {
    case 'openai':
      expect(body.messages).toEqual([
        { role: 'system', content: SYSTEM },
        { role: 'user', content: QUESTION },
      ]);
      if (content === 'tool') {
        expect(body.tools).toEqual([{ type: 'function', function: WEATHER_TOOL }]);
        expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
      }
      if (content === 'json') expect(body.response_format).toMatchObject({ type: 'json_schema', json_schema: { schema: REPORT_SCHEMA } });
      return;
    case 'anthropic':
      expect(body.system).toBe(SYSTEM);
      expect(body.messages).toEqual([{ role: 'user', content: QUESTION }]);
      if (content === 'tool') {
        expect(body.tools).toEqual([{ name: 'get_weather', description: WEATHER_TOOL.description, input_schema: WEATHER_PARAMS }]);
        expect(body.tool_choice).toMatchObject({ type: 'tool', name: 'get_weather' });
      }
      if (content === 'json') {
        // No JSON mode on the 2023-06-01 Messages API: a forced answer tool whose input_schema is the schema.
        expect(body.tools).toEqual([expect.objectContaining({ name: 'json_response', input_schema: REPORT_SCHEMA })]);
        expect(body.tool_choice).toMatchObject({ type: 'tool', name: 'json_response' });
      }
      return;
    case 'gemini':
      expect(body.systemInstruction).toEqual({ parts: [{ text: SYSTEM }] });
      expect(body.contents).toEqual([{ role: 'user', parts: [{ text: QUESTION }] }]);
      if (content === 'tool') {
        expect(body.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: WEATHER_TOOL.description, parametersJsonSchema: WEATHER_PARAMS }] }]);
        expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
      }
      if (content === 'json') expect(body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: REPORT_SCHEMA });
      return;
  }
}

/** The OpenAI request of each content kind: plain, a named forced tool, a strict json_schema. */
export function openAIRequest(route: string, content: Content): Omit<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, 'stream'> {
  const base = {
    model: route,
    messages: [
      { role: 'system' as const, content: SYSTEM },
      { role: 'user' as const, content: QUESTION },
    ],
  };
  if (content === 'tool') return { ...base, tools: [{ type: 'function', function: WEATHER_TOOL }], tool_choice: { type: 'function', function: { name: 'get_weather' } } };
  if (content === 'json') return { ...base, response_format: { type: 'json_schema', json_schema: { name: 'weather_report', schema: REPORT_SCHEMA, strict: true } } };
  return base;
}

/** The same requests on the Anthropic Messages API: `tool_choice: {type:'tool'}`, `output_config.format`. */
export function anthropicRequest(route: string, content: Content): Omit<Anthropic.MessageCreateParamsNonStreaming, 'stream'> {
  const base = { model: route, max_tokens: 512, system: SYSTEM, messages: [{ role: 'user' as const, content: QUESTION }] };
  if (content === 'tool') {
    return {
      ...base,
      tools: [{ name: 'get_weather', description: WEATHER_TOOL.description, input_schema: { ...WEATHER_PARAMS, type: 'object' } }],
      tool_choice: { type: 'tool', name: 'get_weather' },
    };
  }
  if (content === 'json') return { ...base, output_config: { format: { type: 'json_schema', schema: REPORT_SCHEMA } } };
  return base;
}
