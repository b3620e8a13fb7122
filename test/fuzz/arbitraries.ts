/**
 * Generators of hostile and valid-ish requests for both inbound APIs (fast-check). Each case is
 * the exact bytes sent, the headers, and what the gateway may answer: `client_error` (a 4xx in
 * the API's own error shape) or `any` (that, or a 200 when the request happens to be valid).
 */
import fc from 'fast-check';

export type Api = 'openai' | 'anthropic';
export const API_PATHS: Record<Api, string> = { openai: '/v1/chat/completions', anthropic: '/v1/messages' };

export type Expectation = 'client_error' | 'any';

export interface FuzzCase {
  api: Api;
  kind: string;
  body: Buffer;
  headers: Record<string, string>;
  expect: Expectation;
  /** Streaming-disconnect cases: hang up after this many response bytes, or this many ms. */
  hangUp?: { bytes: number } | { ms: number };
}

/** The limits the fuzzed gateway runs with (the cases aim at both sides of each). */
export const FUZZ_LIMITS = { bodyLimitBytes: 2 * 1024 * 1024, maxJsonDepth: 128, maxMessages: 2_000 };

type Json = fc.JsonValue;
type JsonObject = Record<string, Json>;

/** Printed by fast-check for a failing case: the kind and the start of the body, not megabytes of it. */
function fuzzCase(c: FuzzCase): FuzzCase {
  const preview = c.body.subarray(0, 300).toString('latin1');
  const text = `${c.api} ${c.kind} (${c.body.length} bytes, expect ${c.expect}${c.hangUp ? `, hang up ${JSON.stringify(c.hangUp)}` : ''}) headers=${JSON.stringify(c.headers)} body=${JSON.stringify(preview)}`;
  return Object.assign(c, { [fc.toStringMethod]: () => text });
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** Routes, direct targets of each wire format, and names the gateway does not know. */
const model = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('chat', 'claude', 'sim/m', 'sim-anthropic/m', 'sim-gemini/m') },
  { weight: 1, arbitrary: fc.string({ maxLength: 24 }) },
);
const text = fc.string({ unit: 'grapheme', maxLength: 60 });

const openAIMessage = fc.record(
  {
    role: fc.constantFrom('system', 'developer', 'user', 'assistant'),
    content: fc.oneof(text, fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 3 })),
    name: fc.string({ unit: 'binary-ascii', maxLength: 16 }),
  },
  { requiredKeys: ['role', 'content'] },
);

const openAIRequest: fc.Arbitrary<JsonObject> = fc.record(
  {
    model,
    messages: fc.array(openAIMessage, { minLength: 1, maxLength: 6 }),
    stream: fc.boolean(),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
    top_p: fc.double({ min: 0, max: 1, noNaN: true }),
    max_tokens: fc.integer({ min: 1, max: 4_096 }),
    stop: fc.oneof(text, fc.array(text, { maxLength: 4 })),
    user: text,
    n: fc.constant(1),
    stream_options: fc.record({ include_usage: fc.boolean() }),
  },
  { requiredKeys: ['model', 'messages'] },
);

const anthropicMessage = fc.record({
  role: fc.constantFrom('user', 'assistant'),
  content: fc.oneof(text, fc.array(fc.record({ type: fc.constant('text'), text }), { minLength: 1, maxLength: 3 })),
});

const anthropicRequest: fc.Arbitrary<JsonObject> = fc.record(
  {
    model,
    max_tokens: fc.integer({ min: 1, max: 4_096 }),
    messages: fc.array(anthropicMessage, { minLength: 1, maxLength: 6 }),
    system: text,
    stream: fc.boolean(),
    temperature: fc.double({ min: 0, max: 1, noNaN: true }),
    top_k: fc.integer({ min: 0, max: 500 }),
    stop_sequences: fc.array(text, { maxLength: 4 }),
    metadata: fc.record({ user_id: text }),
  },
  { requiredKeys: ['model', 'max_tokens', 'messages'] },
);

const validRequest = (api: Api): fc.Arbitrary<JsonObject> => (api === 'openai' ? openAIRequest : anthropicRequest);

/** The fields each API knows, top level and nested: where a wrong type does the most damage. */
const KNOWN_FIELDS = [
  'model', 'messages', 'stream', 'max_tokens', 'temperature', 'top_p', 'stop', 'tools', 'tool_choice', 'user', 'n',
  'stream_options', 'fallback_models', 'response_format', 'system', 'metadata', 'thinking', 'stop_sequences', 'top_k',
  'output_config', 'messages.0', 'messages.0.role', 'messages.0.content', 'messages.0.content.0', 'messages.0.tool_calls',
];

function setPath(target: JsonObject, path: string, value: Json): JsonObject {
  const copy = structuredClone(target);
  const keys = path.split('.');
  let node: Json = copy;
  for (const key of keys.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(key)] : node !== null && typeof node === 'object' ? node[key] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') return copy;
    node = next;
  }
  const last = keys.at(-1) ?? '';
  if (Array.isArray(node)) node[Number(last)] = value;
  else if (node !== null && typeof node === 'object') node[last] = value;
  return copy;
}

const wrongTyped = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc
    .tuple(validRequest(api), fc.constantFrom(...KNOWN_FIELDS), fc.jsonValue({ maxDepth: 3 }))
    .map(([request, path, value]) => fuzzCase({ api, kind: `wrong type at ${path}`, body: json(setPath(request, path, value)), headers: {}, expect: 'any' }));

const unknownKey = fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'));

const unknownFields = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc.tuple(validRequest(api), fc.dictionary(unknownKey, fc.jsonValue({ maxDepth: 4 }), { minKeys: 1, maxKeys: 5 })).map(([request, extra]) => {
    // Written as text so that `__proto__` arrives as an own key, the way a hostile client sends it.
    const extraText = Object.entries(extra).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    const body = Buffer.from(`{${[JSON.stringify(request).slice(1, -1), ...extraText].join(',')}}`);
    return fuzzCase({ api, kind: 'unknown fields', body, headers: {}, expect: 'any' });
  });

const validish = (api: Api): fc.Arbitrary<FuzzCase> => validRequest(api).map((request) => fuzzCase({ api, kind: 'valid-ish', body: json(request), headers: {}, expect: 'any' }));

const malformed = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => fuzzCase({ api, kind: 'random text', body: Buffer.from(s), headers: {}, expect: 'client_error' })),
    fc.tuple(validRequest(api), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })).map(([request, at]) => {
      const whole = json(request);
      return fuzzCase({ api, kind: 'truncated JSON', body: whole.subarray(0, Math.floor(at * whole.length)), headers: {}, expect: 'client_error' });
    }),
  );

/** `[[[…]]]` or `{"a":{"a":…}}` `depth` levels deep, placed somewhere in an otherwise fine request. */
const deep = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc
    .record({
      depth: fc.oneof(fc.integer({ min: 1, max: FUZZ_LIMITS.maxJsonDepth - 4 }), fc.integer({ min: FUZZ_LIMITS.maxJsonDepth + 1, max: 20_000 })),
      shape: fc.constantFrom('array', 'object'),
      where: fc.constantFrom('unknown field', 'messages', 'content', 'whole body'),
    })
    .map(({ depth, shape, where }) => {
      const open = shape === 'array' ? '[' : '{"a":';
      const close = shape === 'array' ? ']' : '}';
      const nest = `${open.repeat(depth)}${shape === 'array' ? '' : '1'}${close.repeat(depth)}`;
      const max = api === 'anthropic' ? '"max_tokens":16,' : '';
      const body =
        where === 'whole body'
          ? nest
          : where === 'messages'
            ? `{${max}"model":"chat","messages":${nest}}`
            : where === 'content'
              ? `{${max}"model":"chat","messages":[{"role":"user","content":${nest}}]}`
              : `{${max}"model":"chat","messages":[{"role":"user","content":"hi"}],"x":${nest}}`;
      // The request's own object and arrays add up to 3 levels around the nesting.
      const expect: Expectation = depth > FUZZ_LIMITS.maxJsonDepth || where === 'whole body' || where === 'messages' ? 'client_error' : 'any';
      return fuzzCase({ api, kind: `${shape} nested ${depth} deep in ${where}`, body: Buffer.from(body), headers: {}, expect });
    });

/** Bytes that are not UTF-8 (stray continuation bytes, overlong and truncated sequences) inside a string. */
const invalidUtf8 = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc
    .array(fc.oneof(fc.integer({ min: 0x80, max: 0xff }), fc.constantFrom(0xc0, 0xc1, 0xed, 0xf5, 0xff, 0xfe), fc.integer({ min: 0x20, max: 0x7e })), { minLength: 1, maxLength: 64 })
    .map((bytes) => {
      const safe = bytes.filter((b) => b !== 0x22 && b !== 0x5c);
      const max = api === 'anthropic' ? '"max_tokens":16,' : '';
      const body = Buffer.concat([Buffer.from(`{${max}"model":"chat","messages":[{"role":"user","content":"`), Buffer.from(safe), Buffer.from('"}]}')]);
      return fuzzCase({ api, kind: 'invalid UTF-8 in a string', body, headers: {}, expect: 'any' });
    });

/** Printable header values (CR, LF and other controls cannot be sent at all). */
const headerValue = fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());

const hostileHeaders = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc
    .tuple(
      validRequest(api),
      fc.dictionary(fc.constantFrom('x-understudy-fault', 'x-understudy-fault-target', 'x-understudy-max-extra-cost', 'x-understudy-session', 'anthropic-version', 'anthropic-beta', 'content-type'), headerValue, { minKeys: 1, maxKeys: 3 }),
    )
    .map(([request, headers]) => fuzzCase({ api, kind: 'hostile headers', body: json(request), headers, expect: 'any' }));

/** Cases that are cheap to send: most of the run. */
export const smallCase = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc.oneof(validish(api), unknownFields(api), wrongTyped(api), malformed(api), deep(api), invalidUtf8(api), hostileHeaders(api));

/** Cases of megabytes or thousands of messages: a few per run, on both sides of the limits. */
export const bigCase = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc.oneof(
    fc.record({ size: fc.integer({ min: 500_000, max: 3_000_000 }), char: fc.constantFrom('x', 'é', '😀', '\\"') }).map(({ size, char }) => {
      const max = api === 'anthropic' ? '"max_tokens":16,' : '';
      const body = Buffer.from(`{${max}"model":"chat","messages":[{"role":"user","content":"${char.repeat(Math.ceil(size / Buffer.byteLength(char)))}"}]}`);
      return fuzzCase({ api, kind: `a ${body.length}-byte string`, body, headers: {}, expect: 'any' });
    }),
    fc.integer({ min: FUZZ_LIMITS.maxMessages - 10, max: FUZZ_LIMITS.maxMessages + 10 }).map((n) => {
      const messages = Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
      const body = json({ model: 'chat', messages, ...(api === 'anthropic' ? { max_tokens: 16 } : {}) });
      return fuzzCase({ api, kind: `${n} messages`, body, headers: {}, expect: 'any' });
    }),
  );

/** Valid streaming requests whose client hangs up at a random point (or never). */
export const disconnectingStream = (api: Api): fc.Arbitrary<FuzzCase> =>
  fc
    .tuple(
      validRequest(api),
      fc.constantFrom('chat', 'claude', 'sim/m', 'sim-anthropic/m', 'sim-gemini/m'),
      fc.oneof(fc.record({ bytes: fc.integer({ min: 0, max: 3_000 }) }), fc.record({ ms: fc.integer({ min: 0, max: 120 }) })),
    )
    .map(([request, target, hangUp]) => fuzzCase({ api, kind: 'stream, client hangs up', body: json({ ...request, model: target, stream: true }), headers: {}, expect: 'any', hangUp }));
