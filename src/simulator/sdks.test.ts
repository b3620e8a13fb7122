/** The official Anthropic and Google Gen AI SDKs against the simulator: payloads parse, errors map to their classes. */
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { type Scenario, type Simulator, createSimulator } from './index.js';

let sim: Simulator | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(models: Record<string, Scenario>): Promise<Simulator> {
  sim = createSimulator({ models, apiKey: 'sk-sdk' });
  await sim.listen();
  return sim;
}

const WEATHER: { type: 'object'; properties: Record<string, unknown>; required: string[] } = {
  type: 'object',
  properties: { location: { type: 'string' } },
  required: ['location'],
};

function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('@anthropic-ai/sdk', () => {
  const client = (s: Simulator): Anthropic => new Anthropic({ baseURL: s.origin, apiKey: 'sk-sdk', maxRetries: 0 });
  const params = { max_tokens: 100, messages: [{ role: 'user' as const, content: 'x' }] };

  it('reads text answers, streamed and not', async () => {
    const s = await start({ 'claude-sim': { kind: 'ok', text: 'Hi there friend' } });
    const msg = await client(s).messages.create({ model: 'claude-sim', ...params });
    expect(msg.content).toEqual([{ type: 'text', text: 'Hi there friend' }]);
    expect(msg.stop_reason).toBe('end_turn');
    const stream = client(s).messages.stream({ model: 'claude-sim', ...params });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    expect(text).toBe('Hi there friend');
    expect(final.content).toEqual([{ type: 'text', text: 'Hi there friend' }]);
    expect(final.usage.output_tokens).toBe(4);
    // @anthropic-ai/sdk 1.x sends the key as `Authorization: Bearer`, not `x-api-key`.
    expect(s.calls.map((c) => c.headers['x-api-key'] ?? c.headers['authorization'])).toEqual(['Bearer sk-sdk', 'Bearer sk-sdk']);
  });

  it('accumulates a streamed tool_use input', async () => {
    const s = await start({ m: { kind: 'tool_call', text: 'Checking.', arguments: { location: 'Paris' } } });
    const final = await client(s)
      .messages.stream({ model: 'm', ...params, tools: [{ name: 'get_weather', input_schema: WEATHER }] })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_01/), name: 'get_weather', input: { location: 'Paris' } },
    ]);
  });

  it('sees a refusal as a 200 with stop_reason refusal', async () => {
    const s = await start({ m: { kind: 'content_filter' } });
    const final = await client(s).messages.stream({ model: 'm', ...params }).finalMessage();
    expect(final.stop_reason).toBe('refusal');
    expect(final.content).toEqual([]);
  });

  it('maps errors onto its classes', async () => {
    const s = await start({
      rl: { kind: 'rate_limit', retry_after_s: 1 },
      over: { kind: 'status', status: 529 },
      ctx: { kind: 'context_window' },
      auth: { kind: 'auth_error' },
      quota: { kind: 'insufficient_quota' },
    });
    const c = client(s);
    const fail = (model: string): Promise<unknown> => failure(c.messages.create({ model, ...params }));
    const rl = await fail('rl');
    expect(rl).toBeInstanceOf(Anthropic.RateLimitError);
    expect((rl as InstanceType<typeof Anthropic.APIError>).requestID).toMatch(/^req_011C/);
    const over = await fail('over');
    expect(over).toBeInstanceOf(Anthropic.InternalServerError);
    expect((over as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((over as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
    expect(await fail('ctx')).toBeInstanceOf(Anthropic.BadRequestError);
    expect(await fail('auth')).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(await fail('quota')).toBeInstanceOf(Anthropic.BadRequestError);
    expect(await fail('unknown')).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('throws the mid-stream overloaded error event', async () => {
    const s = await start({ m: { kind: 'midstream_error', after_chunks: 2 } });
    let text = '';
    const stream = client(s).messages.stream({ model: 'm', ...params });
    stream.on('text', (t) => (text += t));
    const err = await failure(stream.finalMessage());
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
    expect(text).toBe('Hello from');
  });
});

describe('@google/genai', () => {
  const client = (s: Simulator): GoogleGenAI => new GoogleGenAI({ apiKey: 'sk-sdk', httpOptions: { baseUrl: s.origin } });

  it('reads text answers, streamed and not', async () => {
    const s = await start({ 'gemini-sim': { kind: 'ok', text: 'Hi there friend' } });
    const res = await client(s).models.generateContent({ model: 'gemini-sim', contents: 'x' });
    expect(res.text).toBe('Hi there friend');
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    expect(res.usageMetadata?.candidatesTokenCount).toBe(4);
    let text = '';
    let last: unknown;
    for await (const chunk of await client(s).models.generateContentStream({ model: 'gemini-sim', contents: 'x' })) {
      text += chunk.text ?? '';
      last = chunk.candidates?.[0]?.finishReason;
    }
    expect(text).toBe('Hi there friend');
    expect(last).toBe('STOP');
    expect(s.calls.map((c) => [c.format, c.stream, c.headers['x-goog-api-key']])).toEqual([
      ['gemini', false, 'sk-sdk'],
      ['gemini', true, 'sk-sdk'],
    ]);
  });

  it('reads function calls and forced calls', async () => {
    const s = await start({ tool: { kind: 'tool_call' }, ok: { kind: 'ok' } });
    const tools = [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: WEATHER }] }];
    const res = await client(s).models.generateContent({ model: 'tool', contents: 'x', config: { tools } });
    expect(res.functionCalls).toEqual([{ name: 'get_weather', args: { location: 'example' } }]);
    const forced = await client(s).models.generateContent({
      model: 'ok',
      contents: 'x',
      config: { tools, toolConfig: { functionCallingConfig: { mode: 'ANY' as never } } },
    });
    expect(forced.functionCalls?.[0]?.name).toBe('get_weather');
  });

  it('sees a blocked prompt as promptFeedback without candidates', async () => {
    const s = await start({ m: { kind: 'content_filter' } });
    const res = await client(s).models.generateContent({ model: 'm', contents: 'x' });
    expect(res.promptFeedback?.blockReason).toBe('SAFETY');
    expect(res.candidates).toBeUndefined();
    expect(res.text).toBeUndefined();
  });

  it('maps errors onto ApiError with the HTTP status', async () => {
    const s = await start({ rl: { kind: 'rate_limit', retry_after_s: 2 }, busy: { kind: 'status', status: 503 }, auth: { kind: 'auth_error' } });
    const c = client(s);
    for (const [model, status] of [
      ['rl', 429],
      ['busy', 503],
      ['auth', 400],
      ['unknown', 404],
    ] as const) {
      const err = await failure(c.models.generateContent({ model, contents: 'x' }));
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(status);
    }
    const rl = (await failure(c.models.generateContent({ model: 'rl', contents: 'x' }))) as ApiError;
    expect(rl.message).toContain('RetryInfo');
    const streamErr = await failure(c.models.generateContentStream({ model: 'unknown', contents: 'x' }));
    expect((streamErr as ApiError).status).toBe(404);
  });

  it('throws the mid-stream error chunk', async () => {
    const s = await start({ m: { kind: 'midstream_error', after_chunks: 1, status: 503 } });
    let text = '';
    const err = await failure(
      (async () => {
        for await (const chunk of await client(s).models.generateContentStream({ model: 'm', contents: 'x' })) text += chunk.text ?? '';
      })(),
    );
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toMatch(/overloaded|UNAVAILABLE|503/);
    expect(text).toBe('Hello');
  });
});
