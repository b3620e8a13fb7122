import { describe, expect, it } from 'vitest';
import { RECORDINGS, fixture, geminiErrorEnvelopeErrors } from './__fixtures__/conformance.js';
import { classifyHttpError, parseRetryDelay, readGeminiError } from './errors.js';

const KEY = 'AIzaSyTHISISNOTAREALKEY000000000000';
const envelope = (code: number, status: string, message: string, details: object[] = []) =>
  JSON.stringify({ error: { code, message, status, details } });
const errorInfo = (reason: string) => ({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' });
const retryInfo = (retryDelay: string) => ({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay });
const quota = (quotaId: string) => ({ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId }] });

describe('classifyHttpError on recorded Gemini errors', () => {
  it('429 RESOURCE_EXHAUSTED with RetryInfo is rate_limited after 34.4 s', () => {
    for (const path of ['errors/gemini.resource_exhausted.429.json', 'vercel-ai/google/google-429-retry-info.json']) {
      const text = fixture(path);
      expect(geminiErrorEnvelopeErrors(JSON.parse(text))).toEqual([]);
      expect(classifyHttpError(429, text, undefined, [])).toEqual({
        kind: 'rate_limited',
        status: 429,
        code: 'RESOURCE_EXHAUSTED',
        retryAfterMs: 34_400,
        message: 'You exceeded your current quota, please check your plan.',
      });
    }
  });

  it('404 NOT_FOUND is model_not_found', () => {
    for (const path of ['errors/gemini.model_not_found.404.recorded.json', `${RECORDINGS}/Chats_Tests_sendMessage_Send_message_stream_with_error.0.response.json`]) {
      const { body } = JSON.parse(fixture(path)) as { body: unknown };
      const details = classifyHttpError(404, JSON.stringify(body), undefined, []);
      expect(details).toMatchObject({ kind: 'model_not_found', status: 404, code: 'NOT_FOUND' });
      expect(details.message).toMatch(/^models\/custom-gemini-2.0-flash is not found/);
    }
  });
});

describe('classifyHttpError', () => {
  it.each([
    ['bad argument', 400, envelope(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified'), 'invalid_request'],
    ['bad API key', 400, envelope(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [errorInfo('API_KEY_INVALID')]), 'upstream_auth'],
    ['bad API key, no ErrorInfo', 400, envelope(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.'), 'upstream_auth'],
    [
      'input too long',
      400,
      envelope(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'),
      'context_window',
    ],
    ['unknown field (our translation)', 400, envelope(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "foo" at \'generation_config\': Cannot find field.'), 'unsupported_parameter'],
    ['feature off for the model', 400, envelope(400, 'INVALID_ARGUMENT', 'Function calling is not enabled for models/gemma-3-27b-it'), 'unsupported_parameter'],
    ['missing thought signature', 400, envelope(400, 'INVALID_ARGUMENT', 'Function call is missing a thought_signature in functionCall parts.'), 'unsupported_parameter'],
    ['a safety block sent as a 400', 400, envelope(400, 'INVALID_ARGUMENT', 'The prompt was blocked due to safety reasons.'), 'content_policy'],
    ['billing precondition', 400, envelope(400, 'FAILED_PRECONDITION', 'Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.'), 'quota_exhausted'],
    ['unsupported location', 400, envelope(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.'), 'upstream_auth'],
    ['billing disabled', 403, envelope(403, 'PERMISSION_DENIED', 'Billing is disabled.', [errorInfo('BILLING_DISABLED')]), 'quota_exhausted'],
    ['permission denied', 403, envelope(403, 'PERMISSION_DENIED', 'You do not have permission to access tuned model tunedModels/x.'), 'upstream_auth'],
    ['unauthenticated', 401, envelope(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'), 'upstream_auth'],
    ['not found', 404, envelope(404, 'NOT_FOUND', 'models/nope is not found'), 'model_not_found'],
    [
      'per-minute quota (the usual wording mentions billing details)',
      429,
      envelope(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.', [quota('GenerateRequestsPerMinutePerProjectPerModel-FreeTier')]),
      'rate_limited',
    ],
    ['daily free-tier quota', 429, envelope(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', [quota('GenerateRequestsPerDayPerProjectPerModel-FreeTier'), retryInfo('50s')]), 'rate_limited'],
    ['spend cap', 429, envelope(429, 'RESOURCE_EXHAUSTED', 'Your project has exceeded its monthly spending cap.'), 'quota_exhausted'],
    ['prepaid credits', 429, envelope(429, 'RESOURCE_EXHAUSTED', 'Your prepayment credits are depleted.'), 'quota_exhausted'],
    ['internal', 500, envelope(500, 'INTERNAL', 'An internal error has occurred.'), 'server_error'],
    ['unavailable', 503, envelope(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'), 'overloaded'],
    ['deadline', 504, envelope(504, 'DEADLINE_EXCEEDED', 'The request timed out.'), 'server_error'],
    ['a proxy page, by status', 502, '<html>Bad Gateway</html>', 'server_error'],
    ['a 503 page, by status', 503, 'Service Unavailable', 'overloaded'],
    ['a 429 without a body', 429, '', 'rate_limited'],
    ['a 413 without a body', 413, '', 'invalid_request'],
  ] as const)('%s → %s', (_name, status, body, kind) => {
    expect(classifyHttpError(status, body, undefined, []).kind).toBe(kind);
  });

  it('prefers RetryInfo to a Retry-After header, and uses the header when there is no RetryInfo', () => {
    expect(classifyHttpError(429, envelope(429, 'RESOURCE_EXHAUSTED', 'quota', [retryInfo('2s')]), 9000, []).retryAfterMs).toBe(2000);
    expect(classifyHttpError(429, envelope(429, 'RESOURCE_EXHAUSTED', 'quota'), 9000, []).retryAfterMs).toBe(9000);
    expect(classifyHttpError(429, envelope(429, 'RESOURCE_EXHAUSTED', 'quota'), undefined, []).retryAfterMs).toBeUndefined();
  });

  it('names the ErrorInfo reason as the code, else the status', () => {
    expect(classifyHttpError(400, envelope(400, 'INVALID_ARGUMENT', 'bad key', [errorInfo('API_KEY_INVALID')]), undefined, []).code).toBe('API_KEY_INVALID');
    expect(classifyHttpError(502, 'x', undefined, []).code).toBe('INTERNAL');
  });

  it('never lets a key through', () => {
    const details = classifyHttpError(400, envelope(400, 'INVALID_ARGUMENT', `API key ${KEY} not valid; also AIzaSyAnotherKeyLooking1234567890abcd`), undefined, [KEY]);
    expect(details.message).not.toMatch(/AIza/);
    expect(classifyHttpError(500, `upstream said key=${KEY}`, undefined, [KEY]).message).not.toContain(KEY);
  });
});

describe('parseRetryDelay and readGeminiError', () => {
  it.each([
    ['34.4s', 34_400],
    ['1s', 1000],
    ['0.5s', 500],
    ['0s', 0],
    ['12', undefined],
    ['soon', undefined],
    [undefined, undefined],
  ] as const)('%s → %s', (delay, ms) => {
    expect(parseRetryDelay(delay)).toBe(ms);
  });

  it('reads the envelope, also wrapped in a one-element array', () => {
    expect(readGeminiError({ error: { code: 1 } })).toEqual({ code: 1 });
    expect(readGeminiError([{ error: { code: 2 } }])).toEqual({ code: 2 });
    expect(readGeminiError({ error: 'text' })).toBeUndefined();
    expect(readGeminiError(null)).toBeUndefined();
  });
});
