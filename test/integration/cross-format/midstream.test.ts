import Anthropic from '@anthropic-ai/sdk';
import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from '../harness.js';
import { clientsFor, openAIChat } from './clients.js';
import { checkAnthropicTranscript, checkOpenAITranscript } from './conformance.js';
import { PROVIDERS, QUESTION, TEXT } from './fixtures.js';

/**
 * An upstream in a non-OpenAI format fails mid-stream after content was sent (its own in-stream
 * error event): every client's stream raises, in its own format — never a truncated success. A
 * non-streaming client has seen nothing yet, so the same failure moves on to the next target.
 */
const LONG = 'one two three four five six seven eight nine ten';

describe('mid-stream errors from non-OpenAI upstreams', () => {
  const start = useHarness();
  const setup = (): Promise<Harness> =>
    start({
      simulators: { sim: { mid: { kind: 'midstream_error', after_chunks: 3, text: LONG }, text: { kind: 'ok', text: TEXT } } },
      providers: PROVIDERS,
      routes: {
        'anthropic-mid': { ladder: [{ targets: ['an/mid'] }] },
        'gemini-mid': { ladder: [{ targets: ['ge/mid'] }] },
        'anthropic-mid-then-gemini': { ladder: [{ targets: ['an/mid'], retries: 0 }, { targets: ['ge/text'] }] },
      },
    });

  it.each([
    { route: 'anthropic-mid', servedBy: 'an/mid' },
    { route: 'gemini-mid', servedBy: 'ge/mid' },
  ])("OpenAI client: the stream served by $servedBy raises after its first words, with OpenAI's error event and no [DONE]", async ({ route, servedBy }) => {
    const h = await setup();
    const c = clientsFor(h);
    const { data: stream, response } = await c.openai.chat.completions.create({ model: route, messages: [{ role: 'user', content: QUESTION }], stream: true }).withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-understudy-served-by')).toBe(servedBy);
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return undefined;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(LONG.length);
    expect(LONG.startsWith(text)).toBe(true);
    const chunks = checkOpenAITranscript(await c.tap.last(), 'error');
    expect(chunks.some((ch) => (ch as { choices: { finish_reason: string | null }[] }).choices.some((x) => x.finish_reason))).toBe(false);
    const record = await h.record();
    expect(record.streamError).toBe('stream_cut');
  });

  it.each([
    { route: 'anthropic-mid', servedBy: 'an/mid', how: 'same-format pass-through' },
    { route: 'gemini-mid', servedBy: 'ge/mid', how: 'translated' },
  ])('Anthropic client: the stream served by $servedBy ($how) raises with an Anthropic error event, no message_stop', async ({ route, servedBy }) => {
    const h = await setup();
    const c = clientsFor(h);
    const stream = c.anthropic.messages.stream({ model: route, max_tokens: 256, messages: [{ role: 'user', content: QUESTION }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    const { response } = await stream.withResponse();
    expect(response.headers.get('x-understudy-served-by')).toBe(servedBy);
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(text.length).toBeGreaterThan(0);
    expect(LONG.startsWith(text)).toBe(true);
    expect(text.length).toBeLessThan(LONG.length);
    const transcript = await c.tap.last();
    checkAnthropicTranscript(transcript, 'error');
    expect(transcript).not.toContain('message_stop');
    expect((await h.record()).streamError).toBe('stream_cut');
  });

  it('a non-streaming OpenAI client never sees the broken stream: the Gemini fallback answers whole', async () => {
    const h = await setup();
    const c = clientsFor(h);
    const { headers, completion } = await openAIChat(c, 'non-stream', { model: 'anthropic-mid-then-gemini', messages: [{ role: 'user', content: QUESTION }] });
    expect(headers.get('x-understudy-served-by')).toBe('ge/text');
    // An error event after output is a stream_cut (the upstream's own type is kept in the attempt's code).
    expect(headers.get('x-understudy-fallback-reason')).toBe('stream_cut');
    expect(completion.choices[0]?.message.content).toBe(TEXT);
  });

  it('a non-streaming Anthropic client likewise gets the fallback whole', async () => {
    const h = await setup();
    const c = clientsFor(h);
    const { data, response } = await c.anthropic.messages
      .create({ model: 'anthropic-mid-then-gemini', max_tokens: 256, messages: [{ role: 'user', content: QUESTION }] })
      .withResponse();
    expect(response.headers.get('x-understudy-served-by')).toBe('ge/text');
    expect(data.content).toEqual([{ type: 'text', text: TEXT }]);
    const record = await h.record();
    expect(record.attempts[0]?.failure).toMatchObject({ kind: 'stream_cut', code: 'overloaded_error' });
    expect(h.sims['sim']?.calls.map((x) => x.format)).toEqual(['anthropic', 'gemini']);
  });
});
