import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyHttpError } from './errors.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../shared/conformance/fixtures/errors/${name}`, import.meta.url), 'utf8');

const openAI = (code: string | null, message = 'x', type = 'invalid_request_error') => JSON.stringify({ error: { message, type, param: null, code } });

describe('classifyHttpError', () => {
  it.each([
    ['recorded context_length_exceeded', 400, fixture('openai.context_length_exceeded.400.json'), 'context_window'],
    ['recorded unsupported_parameter', 400, fixture('openai.unsupported_parameter.400.json'), 'unsupported_parameter'],
    ['recorded Azure prompt content filter', 400, fixture('azure-openai.content_filter.prompt.400.json'), 'content_policy'],
    ['recorded minimal Azure prompt filter', 400, fixture('azure-openai.prompt-filtered.minimal.400.json'), 'content_policy'],
    ['429 rate limit', 429, openAI('rate_limit_exceeded', 'Rate limit reached for requests', 'requests'), 'rate_limited'],
    ['429 insufficient_quota', 429, openAI('insufficient_quota', 'You exceeded your current quota', 'insufficient_quota'), 'quota_exhausted'],
    ['500', 500, openAI(null, 'The server had an error', 'server_error'), 'server_error'],
    ['502 HTML', 502, '<html>Bad Gateway</html>', 'server_error'],
    ['503 overloaded', 503, openAI(null, 'The engine is currently overloaded'), 'overloaded'],
    ['504', 504, '', 'server_error'],
    ['529', 529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', 'overloaded'],
    ['401', 401, openAI('invalid_api_key'), 'upstream_auth'],
    ['403', 403, openAI(null), 'upstream_auth'],
    ['404 model', 404, openAI('model_not_found'), 'model_not_found'],
    ['400 other', 400, openAI('invalid_value'), 'invalid_request'],
    ['422', 422, 'not json', 'invalid_request'],
    ['408', 408, '', 'server_error'],
  ])('%s → %s', (_name, status, body, kind) => {
    expect(classifyHttpError(status, body, undefined, []).kind).toBe(kind);
  });

  it('keeps the provider reason, param and code for a client error passed back', () => {
    const details = classifyHttpError(400, fixture('openai.unsupported_parameter.400.json'), undefined, []);
    expect(details).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'max_tokens', type: 'invalid_request_error' });
    expect(details.message).toContain("'max_tokens' is not supported");
  });

  it('carries the Retry-After it was given', () => {
    expect(classifyHttpError(429, openAI('rate_limit_exceeded'), 1_234, []).retryAfterMs).toBe(1_234);
  });

  it('scrubs the provider key and key-shaped strings from messages', () => {
    const secret = 'sk-live-abcdefghijklmnop1234';
    const body = openAI('invalid_api_key', `Incorrect API key provided: ${secret}. Also sk-proj-****abcd and Bearer abc.def.ghi123`);
    const { message } = classifyHttpError(401, body, undefined, [secret]);
    expect(message).not.toContain(secret);
    expect(message).not.toContain('sk-proj');
    expect(message).not.toContain('abc.def.ghi123');
    expect(message).toContain('Incorrect API key provided');
  });
});
