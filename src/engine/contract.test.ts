import { describe, expect, it } from 'vitest';
import type { ChatChoice, ChatRequest, ChatResponse, FinishReason } from '../canonical/chat.js';
import {
  checkContract,
  compileRouteContract,
  contractFor,
  ContractSpecError,
  MAX_MESSAGE_CHARS,
  type RouteContract,
  type RouteContractSpec,
} from './contract.js';

const base: ChatRequest = { model: 'r', messages: [{ role: 'user', content: 'hi' }] };

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
  required: ['name', 'age'],
  additionalProperties: false,
};

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
  },
};
const PING_TOOL = { type: 'function', function: { name: 'ping', parameters: { type: 'object', properties: {} } } };

function withSchema(schema: unknown = PERSON): ChatRequest {
  return { ...base, response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } };
}
const jsonObject: ChatRequest = { ...base, response_format: { type: 'json_object' } };
const withTools: ChatRequest = { ...base, tools: [WEATHER_TOOL, PING_TOOL] };

function text(content: string, finish: FinishReason | null = 'stop'): ChatResponse {
  return response([{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }]);
}

function toolCall(name: string, args: string): ChatResponse {
  return response([
    {
      index: 0,
      message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name, arguments: args } }] },
      finish_reason: 'tool_calls',
    },
  ]);
}

function response(choices: ChatChoice[]): ChatResponse {
  return { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices };
}

function route(over: Partial<RouteContractSpec>): RouteContract {
  return compileRouteContract({ finishReasons: undefined, minLength: undefined, jsonSchema: undefined, regex: undefined, stream: 'pass', ...over });
}

describe('checkContract: the request', () => {
  it('nothing to check for a plain request on a route without a contract (the hot path skips it)', () => {
    expect(contractFor(base, undefined)).toBeUndefined();
    expect(contractFor(base, route({ stream: 'buffer' }))).toBeUndefined();
    expect(checkContract(text('anything'), base, undefined)).toBeUndefined();
  });

  it('json_object: the answer must be a JSON object', () => {
    expect(checkContract(text('{"a":1}'), jsonObject, undefined)).toBeUndefined();
    expect(checkContract(text('Sure! {"a":1}'), jsonObject, undefined)).toEqual({ check: 'response_format', message: 'response_format json_object: the answer is not valid JSON' });
    expect(checkContract(text('[1,2]'), jsonObject, undefined)).toEqual({ check: 'response_format', message: 'response_format json_object: the answer is not a JSON object' });
  });

  it("json_schema: the answer must parse and validate against the request's schema", () => {
    expect(checkContract(text('{"name":"Ada","age":36}'), withSchema(), undefined)).toBeUndefined();
    expect(checkContract(text('{"name":"Ada","age":-1}'), withSchema(), undefined)).toEqual({ check: 'response_format', message: 'response_format json_schema: /age must be >= 0' });
    expect(checkContract(text('{"name":"Ada"}'), withSchema(), undefined)).toEqual({
      check: 'response_format',
      message: "response_format json_schema: (root) must have required property 'age'",
    });
    expect(checkContract(text('{"name":"Ada","age":3'), withSchema(), undefined)?.message).toBe('response_format json_schema: the answer is not valid JSON');
  });

  it('a truncated answer (finish_reason length) fails as invalid JSON', () => {
    expect(checkContract(text('{"name":"Ad', 'length'), withSchema(), undefined)?.check).toBe('response_format');
  });

  it("a request schema Ajv cannot compile is not held against the answer: it only has to be JSON", () => {
    const odd = withSchema({ $schema: 'https://example.com/unknown-draft', type: 'object' });
    expect(checkContract(text('{"x":1}'), odd, undefined)).toBeUndefined();
    expect(checkContract(text('nope'), odd, undefined)?.check).toBe('response_format');
  });

  it('never quotes the answer in the message (it may hold anything)', () => {
    const secret = 'sk-live-1234567890abcdef';
    const violation = checkContract(text(`my key is ${secret}`), withSchema(), undefined);
    expect(violation?.message).not.toContain(secret);
    expect(checkContract(text(JSON.stringify({ name: 'Ada', age: 1, [secret]: true })), withSchema(), undefined)?.message).not.toContain(secret);
  });

  it("tool calls: a named, offered tool whose arguments parse and validate against its parameters", () => {
    expect(checkContract(toolCall('get_weather', '{"city":"Paris","days":2}'), withTools, undefined)).toBeUndefined();
    expect(checkContract(toolCall('get_weather', '{"city":5}'), withTools, undefined)).toEqual({ check: 'tool_arguments', message: 'get_weather: /city must be string' });
    expect(checkContract(toolCall('get_weather', '{"days":2}'), withTools, undefined)).toEqual({
      check: 'tool_arguments',
      message: "get_weather: (root) must have required property 'city'",
    });
    expect(checkContract(toolCall('get_weather', '{"city":"Par'), withTools, undefined)).toEqual({ check: 'tool_arguments', message: 'get_weather: the arguments are not valid JSON' });
    expect(checkContract(toolCall('get_weather', '"Paris"'), withTools, undefined)).toEqual({ check: 'tool_arguments', message: 'get_weather: the arguments are not a JSON object' });
    expect(checkContract(toolCall('launch', '{}'), withTools, undefined)).toEqual({ check: 'tool_call', message: "called 'launch', which the request does not offer" });
  });

  it('empty arguments count as {} (some providers send "" for a call without parameters)', () => {
    expect(checkContract(toolCall('ping', ''), withTools, undefined)).toBeUndefined();
  });

  it('tool calls are not checked when the request offered no tools; the JSON format applies to text answers only', () => {
    expect(checkContract(toolCall('anything', 'not json'), base, undefined)).toBeUndefined();
    expect(checkContract(toolCall('get_weather', '{"city":"Paris"}'), { ...withSchema(), tools: [WEATHER_TOOL] }, undefined)).toBeUndefined();
  });

  it("a refusal or a content-filter verdict is the provider's safety decision: never a contract violation", () => {
    const refusal = response([{ index: 0, message: { role: 'assistant', content: null, refusal: "I can't help with that." }, finish_reason: 'stop' }]);
    expect(checkContract(refusal, withSchema(), route({ minLength: 100 }))).toBeUndefined();
    expect(checkContract(text('{"name":', 'content_filter'), withSchema(), route({ finishReasons: ['stop'] }))).toBeUndefined();
  });

  it('checks every choice and says which one failed', () => {
    const two = response([
      { index: 0, message: { role: 'assistant', content: '{}' }, finish_reason: 'stop' },
      { index: 1, message: { role: 'assistant', content: 'no' }, finish_reason: 'stop' },
    ]);
    expect(checkContract(two, jsonObject, undefined)?.message).toBe('choice 1: response_format json_object: the answer is not valid JSON');
  });
});

describe('checkContract: the route', () => {
  it('finish_reasons', () => {
    const contract = route({ finishReasons: ['stop'] });
    expect(checkContract(text('done'), base, contract)).toBeUndefined();
    expect(checkContract(text('cut sho', 'length'), base, contract)).toEqual({ check: 'finish_reason', message: "finish_reason 'length' is not one of: stop" });
    expect(checkContract(text('x', null), base, contract)?.message).toBe("finish_reason 'none' is not one of: stop");
    expect(checkContract(toolCall('get_weather', '{"city":"Paris"}'), withTools, contract)?.check).toBe('finish_reason');
  });

  it('min_length counts characters (code points) of a text answer', () => {
    const contract = route({ minLength: 5 });
    expect(checkContract(text('hello'), base, contract)).toBeUndefined();
    expect(checkContract(text('hi'), base, contract)).toEqual({ check: 'min_length', message: 'the answer has 2 characters; the route requires at least 5' });
    expect(checkContract(text('😀😀😀😀'), base, contract)?.check).toBe('min_length'); // 8 UTF-16 units, 4 characters
    expect(checkContract(toolCall('ping', '{}'), withTools, contract)).toBeUndefined(); // a tool call is checked against its tool instead
  });

  it('regex, as a pattern or a /pattern/flags literal', () => {
    expect(checkContract(text('Answer: 42'), base, route({ regex: '^Answer: \\d+$' }))).toBeUndefined();
    expect(checkContract(text('I think 42'), base, route({ regex: '^Answer: \\d+$' }))).toEqual({ check: 'regex', message: "the answer does not match the route's regex /^Answer: \\d+$/" });
    expect(checkContract(text('answer: 42'), base, route({ regex: '/^answer: \\d+$/i' }))).toBeUndefined();
    expect(checkContract(text('ANSWER: 42'), base, route({ regex: '^answer' }))?.check).toBe('regex');
  });

  it('json_schema: a text answer must parse and validate', () => {
    const contract = route({ jsonSchema: PERSON });
    expect(checkContract(text('{"name":"Ada","age":36}'), base, contract)).toBeUndefined();
    expect(checkContract(text('{"name":"Ada","age":"old"}'), base, contract)).toEqual({ check: 'json_schema', message: "the route's json_schema: /age must be integer" });
    expect(checkContract(text('Ada, 36'), base, contract)).toEqual({ check: 'json_schema', message: "the answer is not valid JSON (the route's json_schema)" });
  });

  it('the request and the route both apply', () => {
    const contract = route({ jsonSchema: { type: 'object', required: ['id'] } });
    expect(checkContract(text('{"name":"Ada","age":36}'), withSchema(), contract)?.check).toBe('json_schema');
    expect(checkContract(text('{"name":"Ada","age":36}'), withSchema(), route({ regex: 'Ada' }))).toBeUndefined();
  });

  it('messages are truncated', () => {
    const long = route({ finishReasons: ['stop'], regex: 'x'.repeat(500) });
    expect(checkContract(text('y'), base, long)?.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  });
});

describe('compileRouteContract', () => {
  const spec: RouteContractSpec = { finishReasons: undefined, minLength: undefined, jsonSchema: undefined, regex: undefined, stream: 'pass' };

  it('a bad regex is an error naming the key', () => {
    expect(() => compileRouteContract({ ...spec, regex: '([a-z]+' })).toThrow(ContractSpecError);
    try {
      compileRouteContract({ ...spec, regex: '([a-z]+' });
    } catch (error) {
      expect((error as ContractSpecError).key).toBe('regex');
      expect((error as Error).message).toMatch(/^not a valid regular expression: .*Unterminated group/);
    }
  });

  it('stateful flags (g, y) are refused: a test must not depend on the last one', () => {
    expect(() => compileRouteContract({ ...spec, regex: '/a/g' })).toThrow("flag 'g' is not allowed (use i, m, s, u)");
  });

  it('a bad JSON schema is an error naming the key', () => {
    expect(() => compileRouteContract({ ...spec, jsonSchema: { type: 'objekt' } })).toThrow(/^not a valid JSON Schema: schema is invalid/);
    expect(() => compileRouteContract({ ...spec, jsonSchema: { $ref: 'https://example.com/remote.json' } })).toThrow(/can't resolve reference/);
  });

  it('understands draft 2020-12 when the schema says so', () => {
    const contract = route({ jsonSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }], items: false } });
    expect(checkContract(text('["a"]'), base, contract)).toBeUndefined();
    expect(checkContract(text('["a", 1]'), base, contract)?.check).toBe('json_schema');
  });
});
