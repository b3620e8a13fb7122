import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { sampleArguments, sampleFromSchema } from '../../src/simulator/schema-sample.js';
import { chat, expectServed, MODES, USER_MESSAGES, useHarness, type ChatBody, type Outcome } from './harness.js';

/**
 * Output contracts end to end: the official `openai` SDK against the gateway and the simulator
 * over real sockets. A `json` model answers schema-valid JSON; an `ok` model's plain text is not
 * JSON; a `tool_call` model with scripted `arguments` breaks the tool's schema.
 */

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
  required: ['name', 'age'],
  additionalProperties: false,
};
const PERSON_JSON = JSON.stringify(sampleFromSchema(PERSON));
const NOT_JSON = 'Sure! Ada is 36 years old.';

const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
  },
};

const jsonSchemaBody: ChatBody = {
  model: 'extract',
  messages: USER_MESSAGES,
  response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: PERSON } },
};
const toolBody: ChatBody = { model: 'tools', messages: USER_MESSAGES, tools: [WEATHER], tool_choice: 'required' };

/** The stream had sent output and then ended with the gateway's contract_violation error event. */
function expectViolatedAfterOutput(outcome: Outcome, servedBy: string): void {
  expect(outcome.error).toBeUndefined();
  expect(outcome.status).toBe(200);
  expect(outcome.headers.get('x-understudy-served-by')).toBe(servedBy);
  expect(outcome.chunks.length).toBeGreaterThan(0);
  expect(outcome.streamEnded).toBe(false);
  expect(outcome.streamError).toBeInstanceOf(APIError);
  expect((outcome.streamError as APIError).code).toBe('contract_violation');
  expect((outcome.streamError as APIError).message).toContain('breaks the output contract');
}

describe('output contracts', () => {
  const start = useHarness();

  describe("the request's response_format json_schema", () => {
    const setup = (contract?: Record<string, unknown>) =>
      start({
        simulators: { sim: { primary: { kind: 'ok', text: NOT_JSON }, fallback: { kind: 'json' } } },
        routes: { extract: { ...(contract ? { contract } : {}), ladder: [{ targets: 'sim/primary' }, { targets: 'sim/fallback' }] } },
      });

    it.each(MODES)('%s (stream: buffer): text that is not JSON falls back invisibly to a schema-valid answer', async (mode) => {
      const h = await setup({ stream: 'buffer' });
      const outcome = await chat(h.client, mode, jsonSchemaBody);
      expectServed(outcome, { servedBy: 'sim/fallback', model: 'fallback', text: PERSON_JSON, attempts: 2, reason: 'contract_violation' });
      const record = await h.record(outcome.headers.get('x-request-id'));
      expect(record.attempts[0]).toMatchObject({
        target: 'sim/primary',
        outcome: 'failed',
        failure: { kind: 'contract_violation', code: 'response_format', message: 'response_format json_schema: the answer is not valid JSON' },
        decision: { action: 'next_target', rule: 'bad_output' },
      });
      expect(record.attempts[0]?.failure?.message).not.toContain('Ada');
    });

    it('non-stream needs no buffering setting: the whole answer is checked before it is served', async () => {
      const h = await setup();
      const outcome = await chat(h.client, 'non-stream', jsonSchemaBody);
      expectServed(outcome, { servedBy: 'sim/fallback', model: 'fallback', text: PERSON_JSON, attempts: 2, reason: 'contract_violation' });
    });

    it('stream (pass, the default): the text was already sent, so the stream ends with an error event, never as a success', async () => {
      const h = await setup();
      const outcome = await chat(h.client, 'stream', jsonSchemaBody);
      expectViolatedAfterOutput(outcome, 'sim/primary');
      expect(outcome.text).toBe(NOT_JSON);
      expect(h.sim.callsFor('fallback')).toHaveLength(0);
      const record = await h.record(outcome.headers.get('x-request-id'));
      expect(record.streamError).toBe('contract_violation');
      expect(record.attempts[0]).toMatchObject({
        outcome: 'failed',
        failure: { kind: 'contract_violation', code: 'response_format' },
        decision: { action: 'stop', rule: 'committed_stream' },
      });
    });

    it('a schema-valid answer streams straight through in pass mode', async () => {
      const h = await start({ simulators: { sim: { good: { kind: 'json' } } }, routes: { extract: { ladder: [{ targets: 'sim/good' }] } } });
      const outcome = await chat(h.client, 'stream', jsonSchemaBody);
      expectServed(outcome, { servedBy: 'sim/good', model: 'good', text: PERSON_JSON, attempts: 1, reason: undefined });
    });

    it("violations do not feed the circuit breaker: the primary keeps being tried", async () => {
      const h = await setup();
      for (let i = 0; i < 7; i++) {
        const outcome = await chat(h.client, 'non-stream', jsonSchemaBody);
        expect(outcome.headers.get('x-understudy-served-by')).toBe('sim/fallback');
        expect(outcome.headers.get('x-understudy-skipped')).toBeNull();
      }
      expect(h.sim.callsFor('primary')).toHaveLength(7);
      expect(h.records.flatMap((r) => r.attempts).some((a) => a.breakerChange !== undefined)).toBe(false);
    });
  });

  describe('tool-call arguments against the tool schema', () => {
    const setup = (contract?: Record<string, unknown>) =>
      start({
        simulators: { sim: { primary: { kind: 'tool_call', arguments: { city: 75001 } }, fallback: { kind: 'tool_call' } } },
        routes: { tools: { ...(contract ? { contract } : {}), ladder: [{ targets: 'sim/primary' }, { targets: 'sim/fallback' }] } },
      });
    const validArguments = JSON.stringify(sampleArguments(WEATHER.function.parameters));

    it.each(MODES)('%s (stream: buffer): arguments that break the schema fall back to a valid call', async (mode) => {
      const h = await setup({ stream: 'buffer' });
      const outcome = await chat(h.client, mode, toolBody);
      expectServed(outcome, { servedBy: 'sim/fallback', model: 'fallback', text: '', attempts: 2, reason: 'contract_violation' });
      const args =
        mode === 'stream'
          ? outcome.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.function?.arguments ?? '').join('')
          : (outcome.completion?.choices[0]?.message.tool_calls?.[0] as { function: { arguments: string } } | undefined)?.function.arguments;
      expect(args).toBe(validArguments);
      const record = await h.record(outcome.headers.get('x-request-id'));
      expect(record.attempts[0]?.failure).toMatchObject({ kind: 'contract_violation', code: 'tool_arguments', message: 'get_weather: /city must be string' });
    });

    it('stream (pass): the call was already streamed, so the stream ends with an error event', async () => {
      const h = await setup();
      const outcome = await chat(h.client, 'stream', toolBody);
      expectViolatedAfterOutput(outcome, 'sim/primary');
      expect(h.sim.callsFor('fallback')).toHaveLength(0);
    });
  });

  describe('route contracts', () => {
    const route = (contract: Record<string, unknown>, primary: Record<string, unknown>, fallback: Record<string, unknown>) =>
      start({
        simulators: { sim: { primary: primary as never, fallback: fallback as never } },
        routes: { chat: { contract, ladder: [{ targets: 'sim/primary' }, { targets: 'sim/fallback' }] } },
      });
    const body: ChatBody = { model: 'chat', messages: USER_MESSAGES };

    it.each(MODES)('%s: regex', async (mode) => {
      const h = await route({ regex: '^Answer: \\d+$', stream: 'buffer' }, { kind: 'ok', text: 'I think it is 42.' }, { kind: 'ok', text: 'Answer: 42' });
      const outcome = await chat(h.client, mode, body);
      expectServed(outcome, { servedBy: 'sim/fallback', model: 'fallback', text: 'Answer: 42', attempts: 2, reason: 'contract_violation' });
      expect((await h.record(outcome.headers.get('x-request-id'))).attempts[0]?.failure).toMatchObject({ code: 'regex', message: "the answer does not match the route's regex /^Answer: \\d+$/" });
    });

    it.each(MODES)('%s: min_length', async (mode) => {
      const long = 'A complete answer that is long enough to pass.';
      const h = await route({ min_length: 20, stream: 'buffer' }, { kind: 'ok', text: 'Too short.' }, { kind: 'ok', text: long });
      const outcome = await chat(h.client, mode, body);
      expectServed(outcome, { servedBy: 'sim/fallback', model: 'fallback', text: long, attempts: 2, reason: 'contract_violation' });
      expect((await h.record(outcome.headers.get('x-request-id'))).attempts[0]?.failure).toMatchObject({ code: 'min_length', message: 'the answer has 10 characters; the route requires at least 20' });
    });

    it.each(MODES)('%s: finish_reasons', async (mode) => {
      // The primary calls a tool nobody offered: finish_reason tool_calls, not an allowed one.
      const h = await route({ finish_reasons: ['stop'], stream: 'buffer' }, { kind: 'tool_call', name: 'lookup', arguments: { q: 'x' } }, { kind: 'ok', text: 'Plain answer.' });
      const outcome = await chat(h.client, mode, body);
      expectServed(outcome, { servedBy: 'sim/fallback', model: 'fallback', text: 'Plain answer.', attempts: 2, reason: 'contract_violation' });
      expect((await h.record(outcome.headers.get('x-request-id'))).attempts[0]?.failure).toMatchObject({ code: 'finish_reason', message: "finish_reason 'tool_calls' is not one of: stop" });
    });

    it('stream (pass): a regex violation after the text was sent ends the stream with an error event', async () => {
      const h = await route({ regex: '^Answer:' }, { kind: 'ok', text: 'I think it is 42.' }, { kind: 'ok', text: 'Answer: 42' });
      const outcome = await chat(h.client, 'stream', body);
      expectViolatedAfterOutput(outcome, 'sim/primary');
      expect(outcome.text).toBe('I think it is 42.');
    });

    it('every rung breaking the contract: 503 listing each attempt and the check that failed', async () => {
      const h = await route({ min_length: 100 }, { kind: 'ok', text: 'Short.' }, { kind: 'ok', text: 'Also short.' });
      const outcome = await chat(h.client, 'non-stream', body);
      expect(outcome.error?.status).toBe(503);
      expect(outcome.error?.message).toContain('sim/primary: contract_violation (min_length); sim/fallback: contract_violation (min_length)');
    });
  });

  it('contract_violation_to: a violation skips straight to the designated stronger rung', async () => {
    const h = await start({
      simulators: { sim: { cheap: { kind: 'ok', text: NOT_JSON }, middle: { kind: 'json' }, strong: { kind: 'json' } } },
      routes: {
        extract: {
          contract: { stream: 'buffer' },
          contract_violation_to: 'strong',
          ladder: [{ targets: 'sim/cheap' }, { targets: 'sim/middle' }, { name: 'strong', targets: 'sim/strong' }],
        },
      },
    });
    for (const mode of MODES) {
      const outcome = await chat(h.client, mode, jsonSchemaBody);
      expectServed(outcome, { servedBy: 'sim/strong', model: 'strong', text: PERSON_JSON, attempts: 2, reason: 'contract_violation' });
      const record = await h.record(outcome.headers.get('x-request-id'));
      expect(record.attempts.map((a) => [a.target, a.rung])).toEqual([
        ['sim/cheap', 0],
        ['sim/strong', 2],
      ]);
      expect(record.attempts[0]?.decision).toEqual({ action: 'skip_to', rule: 'contract_violation_to', rung: 2 });
    }
    expect(h.sim.callsFor('middle')).toHaveLength(0);
  });

  it('a regex that does not compile is a config error naming the file, line and key', async () => {
    await expect(
      start({
        simulators: { sim: { m: { kind: 'ok' } } },
        routes: { chat: { contract: { regex: '(unclosed' }, ladder: [{ targets: 'sim/m' }] } },
      }),
    ).rejects.toThrow(/integration-test\.yaml:\d+:\d+ {2}routes\.chat\.contract\.regex: not a valid regular expression/);
  });
});
