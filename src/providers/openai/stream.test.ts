import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChunkAssembler } from '../../canonical/chunks.js';
import { isUpstreamFailure } from '../../canonical/failure.js';
import type { UpstreamEvent } from '../target.js';
import { parseOpenAIStream } from './stream.js';

const FIXTURES = new URL('../../../../shared/conformance/fixtures/openai/', import.meta.url);
const recordings = ['openai-python-recordings', 'openai-node-recordings'].flatMap((dir) =>
  readdirSync(new URL(`${dir}/`, FIXTURES))
    .filter((f) => f.endsWith('.sse'))
    .map((f) => ({ name: `${dir}/${f}`, text: readFileSync(new URL(`${dir}/${f}`, FIXTURES), 'utf8') })),
);

async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function run(text: string, size = 1 << 20): Promise<UpstreamEvent[]> {
  const events: UpstreamEvent[] = [];
  for await (const event of parseOpenAIStream(pieces(text, size), [])) events.push(event);
  return events;
}

async function failureOf(text: string): Promise<{ kind: string; code?: string | undefined }> {
  try {
    await run(text);
  } catch (error) {
    if (isUpstreamFailure(error)) return { kind: error.kind, code: error.details.code };
    throw error;
  }
  throw new Error('expected a failure');
}

function assemble(events: UpstreamEvent[]) {
  const assembler = new ChunkAssembler();
  for (const e of events) if (e.type === 'chunk') assembler.add(e.chunk);
  return assembler.result();
}

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

describe('parseOpenAIStream on recorded OpenAI streams', () => {
  expect(recordings.length).toBeGreaterThanOrEqual(16);

  it.each(recordings)('$name: complete, and the same however the bytes are split', async ({ text }) => {
    const whole = await run(text);
    const split = await run(text, 7);
    const bytewise = await run(text, 1);
    expect(split).toEqual(whole);
    expect(bytewise).toEqual(whole);
    const response = assemble(whole);
    expect(response.choices.length).toBeGreaterThan(0);
    for (const choice of response.choices) expect(choice.finish_reason).not.toBeNull();
  });

  it('assembles a streamed tool call with its complete JSON arguments', async () => {
    const text = recordings.find((r) => r.name.endsWith('test_parse_pydantic_tool.sse'))?.text ?? '';
    const response = assemble(await run(text, 5));
    const call = response.choices[0]?.message.tool_calls?.[0];
    expect(call?.function.name).toBe('GetWeatherArgs');
    expect(call?.id).toMatch(/^call_/);
    expect(JSON.parse(call?.function.arguments ?? '')).toHaveProperty('city');
    expect(response.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('assembles parallel tool calls by index', async () => {
    const text = recordings.find((r) => r.name.endsWith('test_parse_multiple_pydantic_tools.sse'))?.text ?? '';
    const calls = assemble(await run(text)).choices[0]?.message.tool_calls ?? [];
    expect(calls.length).toBe(2);
    for (const call of calls) expect(() => JSON.parse(call.function.arguments)).not.toThrow();
  });

  it('keeps the usage chunk (include_usage)', async () => {
    const withUsage = recordings.filter((r) => r.text.includes('"usage":{'));
    expect(withUsage.length).toBeGreaterThan(0);
    for (const r of withUsage) expect(assemble(await run(r.text)).usage?.total_tokens).toBeGreaterThan(0);
  });
});

describe('parseOpenAIStream failure classification', () => {
  it('a stream that ends without [DONE] and without a finish_reason is cut', async () => {
    expect(await failureOf(chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Hel' }))).toEqual({ kind: 'stream_cut', code: 'no_done' });
  });

  it('a finish_reason without [DONE] is a complete answer', async () => {
    const events = await run(chunk({ content: 'Hello' }) + chunk({}, 'stop'));
    expect(assemble(events).choices[0]?.message.content).toBe('Hello');
  });

  it('an unparseable event before output is malformed; after output it is a cut', async () => {
    expect(await failureOf('data: {"id": "x", "choi\n\n')).toEqual({ kind: 'malformed_response', code: 'malformed_chunk' });
    expect(await failureOf(chunk({ content: 'Hi' }) + 'data: {"id": "x", "choi\n\n')).toEqual({ kind: 'stream_cut', code: 'malformed_chunk' });
  });

  it('a body that is not SSE at all is malformed', async () => {
    expect((await failureOf('<html><body>502 Bad Gateway</body></html>')).kind).toBe('malformed_response');
  });

  it('an in-stream error event is classified like the error it carries', async () => {
    const error = 'data: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}\n\n';
    expect((await failureOf(error)).kind).toBe('rate_limited');
    expect((await failureOf(chunk({ content: 'partial' }) + error)).kind).toBe('stream_cut');
  });

  it('reports SSE comments as keep-alives and ignores what follows [DONE]', async () => {
    const events = await run(': ping\n\n' + chunk({ content: 'a' }) + chunk({}, 'stop') + 'data: [DONE]\n\n' + chunk({ content: 'after' }));
    expect(events.map((e) => e.type)).toEqual(['keepalive', 'chunk', 'chunk']);
  });
});
