/**
 * Mid-stream continuation over real sockets: a stream that fails after text reached the client is
 * finished by another target, and the client — the official openai and Anthropic SDKs — sees one
 * uninterrupted answer with no repeated text. The simulator knows how to continue its own answer
 * (src/simulator/continuing.ts): exactly after a prefill, restarting a few words early after a
 * continue turn, as real models do.
 */
import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../src/simulator/index.js';
import { USER_MESSAGES, useHarness, type Harness, type HarnessOptions } from './harness.js';

const start = useHarness();

const TEXT = 'Tides rise and fall twice a day because the Moon pulls the oceans toward it while the Earth turns beneath them.';

interface Streamed {
  text: string;
  chunks: OpenAI.Chat.Completions.ChatCompletionChunk[];
  headers: Headers;
  error?: unknown;
}

/** One streamed chat through the openai SDK, keeping every chunk (the model may change at a splice). */
async function streamChat(h: Harness, body: Record<string, unknown> = {}): Promise<Streamed> {
  const { data, response } = await h.client.chat.completions
    .create({ model: 'chat', messages: USER_MESSAGES, ...body, stream: true } as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming)
    .withResponse();
  const out: Streamed = { text: '', chunks: [], headers: response.headers };
  try {
    for await (const chunk of data) {
      out.chunks.push(chunk);
      out.text += chunk.choices[0]?.delta?.content ?? '';
    }
  } catch (error) {
    out.error = error;
  }
  return out;
}

function twoTargets(primary: Scenario, backupType: 'openai' | 'anthropic' | 'gemini', extra: Partial<HarnessOptions> = {}, route: Record<string, unknown> = {}): Promise<Harness> {
  return start({
    simulators: { sim: { primary, backup: { kind: 'ok', text: TEXT } } },
    providers: { up: { simulator: 'sim', type: backupType } },
    routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'up/backup' }], ...route } },
    ...extra,
  });
}

/** The messages the continuing target received (OpenAI and Anthropic shapes). */
function lastMessages(h: Harness): { role: string; content: unknown }[] {
  const body = h.sim.callsFor('backup').at(-1)?.body ?? {};
  return (body['messages'] ?? []) as { role: string; content: unknown }[];
}

describe('mid-stream continuation', () => {
  it('a cut stream is finished by a target without prefill: one stream, the whole text once, the finishing model named', async () => {
    const h = await twoTargets({ kind: 'cut', after_chunks: 6, text: TEXT }, 'openai');
    const out = await streamChat(h);
    expect(out.error).toBeUndefined();
    expect(out.text).toBe(TEXT);
    expect(out.chunks.at(-1)?.model ?? out.chunks.filter((c) => c.choices.length > 0).at(-1)?.model).toBe('backup');
    expect(new Set(out.chunks.map((c) => c.id)).size).toBe(1); // one stream id throughout
    expect(out.chunks.filter((c) => c.choices[0]?.delta?.role !== undefined)).toHaveLength(1); // one role delta
    expect(out.chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    // Headers went out with the first target; the record has the whole story.
    expect(out.headers.get('x-understudy-served-by')).toBe('sim/primary');
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.servedBy).toBe('up/backup');
    expect(record.streamError).toBeUndefined();
    expect(record.contributors).toEqual(['sim/primary', 'up/backup']);
    expect(record.splices).toHaveLength(1);
    const splice = record.splices?.[0];
    expect(splice).toMatchObject({ from: 'sim/primary', to: 'up/backup', mode: 'continue_turn' });
    expect(splice?.atChar).toBe(TEXT.split(' ').slice(0, 6).join(' ').length);
    expect(splice?.overlapChars).toBeGreaterThanOrEqual(12); // the simulator restarted three words early
    expect(record.attempts.find((a) => a.target === 'sim/primary' && a.outcome === 'failed')?.decision).toEqual({ action: 'continue', rule: 'midstream_continuation' });
    expect(record.attempts.find((a) => a.target === 'up/backup')?.reason).toBe('continuation');
    // The continuing target got the partial answer and an explicit continue turn.
    const messages = lastMessages(h);
    expect(messages.at(-2)).toEqual({ role: 'assistant', content: TEXT.slice(0, splice?.atChar) });
    expect(messages.at(-1)?.role).toBe('user');
    expect(String(messages.at(-1)?.content)).toMatch(/continue/i);
  });

  it('a prefill-capable target (Anthropic) continues from the exact text: the seam adds and removes nothing', async () => {
    const h = await twoTargets({ kind: 'cut', after_chunks: 5, text: TEXT }, 'anthropic');
    const out = await streamChat(h);
    expect(out.error).toBeUndefined();
    expect(out.text).toBe(TEXT);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.splices?.[0]).toMatchObject({ mode: 'prefill', overlapChars: 0 });
    // The partial answer travelled as a trailing assistant message, its trailing space trimmed (the API rejects it).
    const messages = lastMessages(h);
    expect(messages.at(-1)).toMatchObject({ role: 'assistant' });
    expect(JSON.stringify(messages.at(-1)?.content)).toContain(TEXT.split(' ').slice(0, 5).join(' '));
    expect(JSON.stringify(messages.at(-1)?.content)).not.toContain(`${TEXT.split(' ').slice(0, 5).join(' ')} `);
  });

  it('a Gemini target (no prefill) continues after a continue turn', async () => {
    const h = await twoTargets({ kind: 'cut', after_chunks: 4, text: TEXT }, 'gemini');
    const out = await streamChat(h);
    expect(out.error).toBeUndefined();
    expect(out.text).toBe(TEXT);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.splices?.[0]).toMatchObject({ mode: 'continue_turn', to: 'up/backup' });
  });

  it.each([
    ['a stall', { kind: 'stall', after_chunks: 3, text: TEXT } as Scenario, 'stream_stalled'],
    // The OpenAI adapter classifies an error event after content as a cut stream (its message kept).
    ['an in-band overloaded error', { kind: 'midstream_error', after_chunks: 3, status: 529, text: TEXT } as Scenario, 'stream_cut'],
    ['a malformed chunk', { kind: 'malformed_chunk', after_chunks: 3, text: TEXT } as Scenario, 'stream_cut'],
  ])('%s after output is continued too', async (_name, primary, kind) => {
    const h = await twoTargets(primary, 'openai', { defaults: { timeouts: { stall_ms: 200 } } });
    const out = await streamChat(h);
    expect(out.error).toBeUndefined();
    expect(out.text).toBe(TEXT);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.attempts.find((a) => a.target === 'sim/primary')?.failure?.kind).toBe(kind);
    expect(record.contributors).toEqual(['sim/primary', 'up/backup']);
  });

  it('the trailer comment names every contributor and the splice; the stream still ends with [DONE]', async () => {
    const h = await twoTargets({ kind: 'cut', after_chunks: 6, text: TEXT }, 'openai');
    const res = await request(`${h.gateway.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: USER_MESSAGES, stream: true }),
    });
    const raw = await res.body.text();
    const trailer = JSON.parse(/^: understudy (\{.*\})$/m.exec(raw)?.[1] ?? '{}') as Record<string, unknown>;
    expect(trailer).toMatchObject({ route: 'chat', served_by: 'up/backup', contributors: ['sim/primary', 'up/backup'] });
    expect(trailer['splices']).toEqual([expect.objectContaining({ from: 'sim/primary', to: 'up/backup', mode: 'continue_turn' })]);
    expect(raw.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('when no target can continue, the stream ends with an error naming the real failure (not the continuation\'s)', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'cut', after_chunks: 3, text: TEXT }, backup: { kind: 'status', status: 400, message: 'prefill not allowed' } } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }] } },
    });
    const out = await streamChat(h);
    expect(out.error).toBeDefined();
    const message = String((out.error as Error).message);
    expect(message).toContain('stream_cut');
    expect(message).toContain('No other target could continue it');
    expect(TEXT.startsWith(out.text)).toBe(true);
    const record = await h.record(out.headers.get('x-request-id'));
    expect(record.streamError).toBe('stream_cut');
    expect(record.contributors).toBeUndefined();
  });

  it('is off for JSON output by default: a cut JSON stream ends with an error, never a spliced document', async () => {
    const h = await twoTargets({ kind: 'cut', after_chunks: 3, text: '{"answer": "forty two", "sure": true}' }, 'openai');
    const out = await streamChat(h, { response_format: { type: 'json_object' } });
    expect(out.error).toBeDefined();
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });

  it('a route can turn it off', async () => {
    const h = await twoTargets({ kind: 'cut', after_chunks: 3, text: TEXT }, 'openai', {}, { continuation: { enabled: false } });
    const out = await streamChat(h);
    expect(out.error).toBeDefined();
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });

  it('an Anthropic client over an Anthropic upstream (native pass-through) gets one well-formed message', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'cut', after_chunks: 5, text: TEXT }, backup: { kind: 'ok', text: TEXT } } },
      providers: { claude: { simulator: 'sim', type: 'anthropic' } },
      routes: { claude: { ladder: [{ targets: 'claude/primary' }, { targets: 'claude/backup' }] } },
    });
    const client = new Anthropic({ baseURL: h.origin, apiKey: 'client-key', maxRetries: 0 });
    const stream = client.messages.stream({ model: 'claude', max_tokens: 200, messages: [{ role: 'user', content: 'Why are there tides?' }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    const message = await stream.finalMessage();
    expect(text).toBe(TEXT);
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: TEXT })]);
    expect(message.stop_reason).toBe('end_turn');
  });
});

describe('tool calls across a cut', () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const call = { kind: 'tool_call', arguments: { city: 'Reykjavik', units: 'metric', detail: 'hourly forecast' } } as Scenario;

  it('a cut inside the arguments, before anything else was sent, is invisible: the next target\'s whole call arrives', async () => {
    const h = await start({
      simulators: { sim: { primary: call, backup: call } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }] } },
      faults: [{ target: 'sim/primary', fault: { kind: 'cut', after_chunks: 4 } }],
    });
    const out = await streamChat(h, { tools });
    expect(out.error).toBeUndefined();
    const args = out.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((t) => t.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({ city: 'Reykjavik', units: 'metric', detail: 'hourly forecast' });
    expect(out.chunks.filter((c) => c.choices[0]?.delta?.tool_calls?.[0]?.id !== undefined)).toHaveLength(1);
    expect(out.headers.get('x-understudy-served-by')).toBe('sim/backup');
    expect(out.headers.get('x-understudy-fallback-reason')).toBe('stream_cut');
  });

  it('a cut inside the arguments after text was sent ends with an error, and no half call ever reached the client', async () => {
    const withText = { ...call, text: 'Let me look that up for you.' } as Scenario;
    const h = await start({
      simulators: { sim: { primary: withText, backup: withText } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }] } },
      faults: [{ target: 'sim/primary', fault: { kind: 'cut', after_chunks: 9 } }],
    });
    const out = await streamChat(h, { tools });
    expect(out.text.length).toBeGreaterThan(0);
    expect(out.error).toBeDefined(); // tools: continuation is off by default
    expect(out.chunks.some((c) => (c.choices[0]?.delta?.tool_calls?.length ?? 0) > 0)).toBe(false);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });

  it('an uncut tool call streams through whole and valid', async () => {
    const h = await start({
      simulators: { sim: { primary: call } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }] } },
    });
    const out = await streamChat(h, { tools });
    expect(out.error).toBeUndefined();
    const args = out.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((t) => t.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toMatchObject({ city: 'Reykjavik' });
    expect(out.chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });
});
