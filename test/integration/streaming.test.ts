/**
 * Streaming specifics: usage chunks, client disconnects (upstream aborted, recorded as
 * client_cancelled), and the raw SSE wire shape of success and mid-stream failure.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../src/simulator/index.js';
import { MODES, USER_MESSAGES, chat, expectServed, pollFor, useHarness } from './harness.js';

const PRIMARY_TEXT = 'The primary model answers this one in several words.';
const BACKUP_TEXT = 'The backup model gives the whole answer instead.';
const STATIC_TEXT = 'We are busy right now; please try again in a minute.';

const start = useHarness();

function startChat(primary: Scenario, extraRungs: unknown[] = []) {
  return start({
    simulators: { sim: { primary, backup: { kind: 'ok', text: BACKUP_TEXT } } },
    routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }, ...extraRungs] } },
  });
}

describe('stream_options: {include_usage: true}', () => {
  it.each([
    { name: 'the primary', primary: { kind: 'ok', text: PRIMARY_TEXT } as Scenario, servedBy: 'sim/primary', model: 'primary', text: PRIMARY_TEXT },
    { name: 'a fallback', primary: { kind: 'status', status: 500 } as Scenario, servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT },
  ])('served by $name: the last chunk carries usage and no choices', async (c) => {
    const h = await startChat(c.primary);
    const out = await chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES, stream_options: { include_usage: true } });
    expect(out.status).toBe(200);
    expect(out.headers.get('x-understudy-served-by')).toBe(c.servedBy);
    expect(out.text).toBe(c.text);
    expect(out.model).toBe(c.model);
    const last = out.chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last?.usage?.total_tokens).toBe((last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0));
    // Only the last chunk carries usage.
    for (const chunk of out.chunks.slice(0, -1)) expect(chunk.usage ?? null).toBeNull();
    expect(h.sim.callsFor(c.model).at(-1)?.body.stream_options).toEqual({ include_usage: true });
  });

  it('a static answer streams a usage chunk too', async () => {
    const h = await startChat({ kind: 'status', status: 500 }, [{ static: STATIC_TEXT }]);
    h.sim.setModel('backup', { kind: 'status', status: 500 });
    const out = await chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES, stream_options: { include_usage: true } });
    expect(out.text).toBe(STATIC_TEXT);
    expect(out.headers.get('x-understudy-degraded')).toBe('true');
    expect(out.chunks.at(-1)?.choices).toEqual([]);
    expect(out.chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  it('without include_usage no chunk carries usage', async () => {
    const h = await startChat({ kind: 'ok', text: PRIMARY_TEXT });
    const out = await chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES });
    expect(out.text).toBe(PRIMARY_TEXT);
    for (const chunk of out.chunks) expect(chunk.usage ?? null).toBeNull();
    expect(out.chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('a non-streaming client served from an upstream stream still gets usage', async () => {
    const h = await startChat({ kind: 'ok', text: PRIMARY_TEXT });
    const out = await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    expect(out.completion?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(out.completion?.object).toBe('chat.completion');
  });
});

describe('client disconnect', () => {
  it('mid-stream aborts the upstream call and is recorded as client_cancelled', async () => {
    const h = await startChat({ kind: 'ok', text: PRIMARY_TEXT, chunks: 40, chunk_delay_ms: 100 });
    const controller = new AbortController();
    let received = '';
    const out = chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES }, {
      signal: controller.signal,
      onChunk: (chunk) => {
        received += chunk.choices[0]?.delta?.content ?? '';
        if (received.length > 0) controller.abort();
      },
    });
    // The SDK either ends the loop quietly on its own abort or raises an abort error.
    const outcome = await out.catch((error: unknown) => ({ aborted: error }));
    if ('text' in outcome) expect(outcome.text.length).toBeLessThan(PRIMARY_TEXT.length);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(PRIMARY_TEXT.length);

    await pollFor(() => h.sim.openConnections() === 0, 3_000, 'the upstream call to be aborted');
    const record = await h.record();
    expect(record.streamError).toBe('client_cancelled');
    expect(record.servedBy).toBe('sim/primary');
    expect(record.attempts[0]?.failure?.kind).toBe('client_cancelled');
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });

  it('before the first token aborts the upstream call, tries nothing else, records client_cancelled', async () => {
    const h = await startChat({ kind: 'slow_first_token', delay_ms: 10_000 });
    const controller = new AbortController();
    const pending = chat(h.client, 'stream', { model: 'chat', messages: USER_MESSAGES }, { signal: controller.signal }).catch((error: unknown) => error);
    await pollFor(() => h.sim.openConnections() === 1, 3_000, 'the upstream call to start');
    controller.abort();
    await pending;
    await pollFor(() => h.sim.openConnections() === 0, 3_000, 'the upstream call to be aborted');
    const record = await h.record();
    expect(record.status).toBe(499);
    expect(record.attempts).toHaveLength(1);
    expect(record.attempts[0]?.failure?.kind).toBe('client_cancelled');
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });
});

describe('client disconnect (non-streaming)', () => {
  it('while the upstream is still working aborts it and records client_cancelled', async () => {
    const h = await startChat({ kind: 'slow_first_token', delay_ms: 10_000 });
    const controller = new AbortController();
    const pending = chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES }, { signal: controller.signal }).catch((error: unknown) => error);
    await pollFor(() => h.sim.openConnections() === 1, 3_000, 'the upstream call to start');
    controller.abort();
    await pending;
    await pollFor(() => h.sim.openConnections() === 0, 3_000, 'the upstream call to be aborted');
    const record = await h.record();
    expect(record.status).toBe(499);
    expect(record.attempts.map((a) => a.failure?.kind)).toEqual(['client_cancelled']);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });

  it('during a retry wait stops the ladder', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'rate_limit', retry_after_ms: 1_500 }, backup: { kind: 'ok' } } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }], policy: { max_retry_wait_ms: 2_000 } } },
    });
    const controller = new AbortController();
    const pending = chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES }, { signal: controller.signal }).catch((error: unknown) => error);
    await pollFor(() => h.sim.callsFor('primary').length === 1, 3_000, 'the first attempt');
    controller.abort();
    await pending;
    const record = await h.record();
    expect(record.status).toBe(499);
    // The wait was cut short by the disconnect, not served out.
    expect(record.endedAt - record.startedAt).toBeLessThan(1_500);
    expect(record.attempts[0]?.decision).toMatchObject({ action: 'retry_same', delayMs: 1_500 });
    // The retry never happened and nothing else was tried.
    expect(h.sim.callsFor('primary')).toHaveLength(1);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });
});

describe('SSE wire shape', () => {
  async function rawStream(url: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
    const res = await request(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: USER_MESSAGES, stream: true }),
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }

  it('a completed stream ends with the understudy trailer comment and [DONE]', async () => {
    const h = await startChat({ kind: 'status', status: 500 });
    const res = await rawStream(h.gateway.url);
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/event-stream/);
    const trailer = /^: understudy (\{.*\})$/m.exec(res.text);
    expect(JSON.parse(trailer?.[1] ?? '{}')).toEqual({ route: 'chat', served_by: 'sim/backup', attempts: 3, degraded: false });
    expect(res.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('a stream that fails after output, with no target to continue it, ends with an error event and no [DONE]', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'cut', after_chunks: 2, text: PRIMARY_TEXT } } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }] } },
    });
    const res = await rawStream(h.gateway.url);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('[DONE]');
    const events = res.text.split('\n\n').filter((e) => e.startsWith('data: '));
    const last = JSON.parse((events.at(-1) ?? '').slice('data: '.length)) as { error?: { code?: string; type?: string } };
    expect(last.error).toMatchObject({ code: 'stream_cut', type: 'server_error' });
  });
});

describe.each(MODES)('%s client: a slow but healthy stream', (mode) => {
  it('chunks spaced under stall_ms are not a stall', async () => {
    const h = await startChat({ kind: 'ok', text: PRIMARY_TEXT, chunks: 4, chunk_delay_ms: 100 });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/primary', model: 'primary', text: PRIMARY_TEXT, attempts: 1, reason: undefined });
    expect(out.ms).toBeGreaterThanOrEqual(300);
  });
});
