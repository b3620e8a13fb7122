import { describe, expect, it } from 'vitest';
import { read } from './__fixtures__/conformance.js';
import { classifyHttpError, classifyStreamError } from './errors.js';

const err = (type: string, message = 'x') => JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011' });

describe('classifyHttpError', () => {
  it.each([
    ['recorded prompt too long', 400, read('errors/anthropic.prompt_too_long.400.json'), undefined, 'context_window'],
    ['input + max_tokens over the window', 400, err('invalid_request_error', 'input length and `max_tokens` exceed context limit: 197626 + 8192 > 200000, decrease input length or `max_tokens` and try again'), undefined, 'context_window'],
    ['400 invalid request', 400, err('invalid_request_error', 'messages: roles must alternate'), undefined, 'invalid_request'],
    ['400 credit balance too low', 400, err('invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'), undefined, 'quota_exhausted'],
    ['400 usage limits reached', 400, err('invalid_request_error', 'You have reached your specified API usage limits. You will regain access on 2025-09-01 at 00:00 UTC.'), undefined, 'quota_exhausted'],
    ['400 a parameter the model rejects', 400, err('invalid_request_error', 'temperature: Extra inputs are not permitted'), undefined, 'unsupported_parameter'],
    ['400 max_tokens above the model limit', 400, err('invalid_request_error', 'max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5'), undefined, 'unsupported_parameter'],
    ['401', 401, err('authentication_error', 'invalid x-api-key'), undefined, 'upstream_auth'],
    ['403', 403, err('permission_error', 'Your API key does not have permission to use the specified resource.'), undefined, 'upstream_auth'],
    ['402 billing', 402, err('billing_error', 'billing issue'), undefined, 'quota_exhausted'],
    ['404 model', 404, err('not_found_error', 'model: claude-nope'), undefined, 'model_not_found'],
    ['409 conflict', 409, err('conflict_error'), undefined, 'server_error'],
    ['413 request too large', 413, err('request_too_large', 'Request exceeds the maximum allowed number of bytes.'), undefined, 'context_window'],
    ['413 from the edge (HTML)', 413, '<html>413 Request Entity Too Large</html>', undefined, 'context_window'],
    ['429 rate limit with retry-after', 429, err('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'), 3_000, 'rate_limited'],
    ['429 rate limit without retry-after', 429, err('rate_limit_error', 'Number of requests has exceeded your rate limit'), undefined, 'rate_limited'],
    ['429 spend cap, no retry-after', 429, err('rate_limit_error', 'This request would exceed your organization’s monthly spend limit'), undefined, 'quota_exhausted'],
    ['500 api_error', 500, err('api_error', 'Internal server error'), undefined, 'server_error'],
    ['502 HTML', 502, '<html>Bad Gateway</html>', undefined, 'server_error'],
    ['504 timeout', 504, err('timeout_error', 'Request timed out'), undefined, 'server_error'],
    ['529 overloaded', 529, err('overloaded_error', 'Overloaded'), undefined, 'overloaded'],
    ['529 empty body', 529, '', undefined, 'overloaded'],
    ['503', 503, '', undefined, 'overloaded'],
    ['500 carrying overloaded_error', 500, err('overloaded_error', 'Overloaded'), undefined, 'overloaded'],
    ['422 not JSON', 422, 'nope', undefined, 'invalid_request'],
  ])('%s → %s', (_name, status, body, retryAfter, kind) => {
    expect(classifyHttpError(status, body, retryAfter, []).kind).toBe(kind);
  });

  it('keeps status, error type and the provider message', () => {
    const details = classifyHttpError(400, read('errors/anthropic.prompt_too_long.400.json'), undefined, []);
    expect(details).toEqual({
      kind: 'context_window',
      status: 400,
      code: 'invalid_request_error',
      type: 'invalid_request_error',
      message: 'prompt is too long: 203284 tokens > 200000 maximum',
    });
  });

  it('carries the Retry-After it was given', () => {
    expect(classifyHttpError(429, err('rate_limit_error'), 1_234, []).retryAfterMs).toBe(1_234);
  });

  it('scrubs the key and key-shaped strings', () => {
    const key = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz';
    const { message } = classifyHttpError(401, err('authentication_error', `invalid x-api-key ${key} (Bearer abc.def.ghi123)`), undefined, [key]);
    expect(message).not.toContain(key);
    expect(message).not.toContain('abc.def.ghi123');
    expect(message).toContain('invalid x-api-key');
  });
});

describe('classifyStreamError', () => {
  it('before output: by error type; after output: a cut', () => {
    expect(classifyStreamError({ type: 'overloaded_error', message: 'Overloaded' }, false, [])).toMatchObject({ kind: 'overloaded', code: 'overloaded_error' });
    expect(classifyStreamError({ type: 'rate_limit_error', message: 'x' }, false, []).kind).toBe('rate_limited');
    expect(classifyStreamError({ type: 'overloaded_error', message: 'Overloaded' }, true, [])).toMatchObject({ kind: 'stream_cut', code: 'overloaded_error' });
  });
});
