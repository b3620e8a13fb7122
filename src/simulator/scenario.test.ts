import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type Scenario, scenarioSchema } from './index.js';

describe('scenarioSchema', () => {
  it('accepts every scenario kind with snake_case fields', () => {
    const all: Scenario[] = [
      { kind: 'ok' },
      { kind: 'ok', text: 'hi', latency_ms: 10, chunks: 20, chunk_delay_ms: 1 },
      { kind: 'slow_first_token', delay_ms: 100, text: 'x' },
      { kind: 'rate_limit', retry_after_s: 2, retry_after_ms: 1500 },
      { kind: 'insufficient_quota' },
      { kind: 'status', status: 529, retry_after_s: 1, message: 'busy' },
      { kind: 'fail_first', n: 2, failure: { kind: 'reset' }, then: { kind: 'ok' } },
      { kind: 'outage', down_ms: 10, every_ms: 100, offset_ms: -5, failure: { kind: 'no_response' }, then: { kind: 'ok' } },
      { kind: 'outage', down_ms: 10, every_ms: 100, then: { kind: 'ok' } },
      { kind: 'reset' },
      { kind: 'no_response' },
      { kind: 'cut', after_chunks: 3, text: 'a b c d' },
      { kind: 'stall', after_chunks: 1, stall_ms: 50 },
      { kind: 'stall', after_chunks: 0 },
      { kind: 'malformed_chunk', after_chunks: 2 },
      { kind: 'missing_done' },
      { kind: 'empty' },
      { kind: 'context_window', limit: 8192 },
      { kind: 'content_filter' },
      { kind: 'garbage', body: 'nope' },
      { kind: 'invalid_request' },
      { kind: 'unsupported_parameter' },
      { kind: 'auth_error' },
      { kind: 'midstream_error', after_chunks: 2 },
      { kind: 'midstream_error', after_chunks: 0, status: 503, message: 'busy', text: 'a b' },
      { kind: 'tool_call' },
      { kind: 'tool_call', name: 'get_weather', arguments: { city: 'Paris', days: [1, 2] }, text: 'Checking.' },
      { kind: 'json' },
      { kind: 'json', value: { ok: false, n: 1 } },
    ];
    for (const s of all) expect(scenarioSchema.parse(s)).toEqual(s);
  });

  it('parses nested composites from YAML', () => {
    const yaml = `
kind: fail_first
n: 1
failure: { kind: status, status: 500 }
then:
  kind: outage
  down_ms: 1000
  every_ms: 60000
  then: { kind: ok, text: recovered, chunks: 3 }
`;
    expect(scenarioSchema.parse(parseYaml(yaml))).toEqual({
      kind: 'fail_first',
      n: 1,
      failure: { kind: 'status', status: 500 },
      then: { kind: 'outage', down_ms: 1000, every_ms: 60000, then: { kind: 'ok', text: 'recovered', chunks: 3 } },
    });
  });

  it.each([
    ['unknown kind', { kind: 'explode' }],
    ['missing required field', { kind: 'slow_first_token' }],
    ['camelCase key', { kind: 'ok', latencyMs: 5 }],
    ['unknown key', { kind: 'reset', extra: true }],
    ['status out of range', { kind: 'status', status: 200 }],
    ['non-integer status', { kind: 'status', status: 500.5 }],
    ['negative delay', { kind: 'ok', latency_ms: -1 }],
    ['zero chunks', { kind: 'ok', chunks: 0 }],
    ['zero outage period', { kind: 'outage', down_ms: 1, every_ms: 0, then: { kind: 'ok' } }],
    ['invalid nested scenario', { kind: 'fail_first', n: 1, failure: { kind: 'nope' }, then: { kind: 'ok' } }],
    ['missing then', { kind: 'fail_first', n: 1, failure: { kind: 'ok' } }],
    ['negative n', { kind: 'fail_first', n: -1, failure: { kind: 'ok' }, then: { kind: 'ok' } }],
    ['not an object', 'ok'],
    ['midstream_error without after_chunks', { kind: 'midstream_error' }],
    ['midstream_error with a 2xx status', { kind: 'midstream_error', after_chunks: 1, status: 200 }],
    ['tool_call with array arguments', { kind: 'tool_call', arguments: [1] }],
    ['tool_call with an empty name', { kind: 'tool_call', name: '' }],
    ['json with a non-object value', { kind: 'json', value: 'x' }],
  ])('rejects %s', (_name, input) => {
    expect(scenarioSchema.safeParse(input).success).toBe(false);
  });
});
