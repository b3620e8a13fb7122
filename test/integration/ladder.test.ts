/**
 * Ladder-level behaviour through the official OpenAI SDK, streaming and not: client errors that
 * stop the ladder, context windows, the all-failed answer, static degradation, the request
 * deadline, per-request fallback_models and direct provider/model names.
 */
import OpenAI, { APIError, InternalServerError, RateLimitError } from 'openai';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../src/simulator/index.js';
import { MODES, USER_MESSAGES, chat, expectHttpError, expectServed, useHarness } from './harness.js';

const PRIMARY_TEXT = 'The primary model answers this one in several words.';
const BACKUP_TEXT = 'The backup model gives the whole answer instead.';
const STATIC_TEXT = 'We are busy right now; please try again in a minute.';

const start = useHarness();

function startChat(primary: Scenario, backup: Scenario = { kind: 'ok', text: BACKUP_TEXT }, routeExtra: Record<string, unknown> = {}) {
  return start({
    simulators: { sim: { primary, backup } },
    routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }], ...routeExtra } },
  });
}

describe.each(MODES)('%s client', (mode) => {
  describe('context_window', () => {
    it('skips every target of the same model and serves from another model', async () => {
      const h = await start({
        simulators: {
          east: { 'gpt-x': { kind: 'context_window', limit: 8 } },
          west: { 'gpt-x': { kind: 'ok', text: PRIMARY_TEXT } },
          sim: { backup: { kind: 'ok', text: BACKUP_TEXT } },
        },
        routes: { chat: { ladder: [{ targets: 'east/gpt-x' }, { targets: 'west/gpt-x' }, { targets: 'sim/backup' }] } },
      });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 2, reason: 'context_window' });
      expect(h.sims.east?.callsFor('gpt-x')).toHaveLength(1);
      expect(h.sims.west?.callsFor('gpt-x')).toHaveLength(0);
      const record = await h.record(out.headers.get('x-request-id'));
      expect(record.attempts.map((a) => [a.target, a.outcome])).toEqual([
        ['east/gpt-x', 'failed'],
        ['west/gpt-x', 'skipped'],
        ['sim/backup', 'ok'],
      ]);
    });

    it('every target the same model → 400 context_length_exceeded, the model tried once', async () => {
      const h = await start({
        simulators: { east: { 'gpt-x': { kind: 'context_window' } }, west: { 'gpt-x': { kind: 'ok' } } },
        routes: { chat: { ladder: [{ targets: 'east/gpt-x' }, { targets: 'west/gpt-x' }] } },
      });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      const error = expectHttpError(out, 400, 'context_length_exceeded');
      expect(error.param).toBe('messages');
      expect(out.headers.get('x-understudy-fallback-reason')).toBe('context_window');
      expect(out.headers.get('x-understudy-attempts')).toBe('1');
      expect(h.sims.east?.callsFor('gpt-x')).toHaveLength(1);
      expect(h.sims.west?.callsFor('gpt-x')).toHaveLength(0);
    });

    it('every model too small → 400 context_length_exceeded', async () => {
      const h = await startChat({ kind: 'context_window' }, { kind: 'context_window' });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      expectHttpError(out, 400, 'context_length_exceeded');
      expect(out.headers.get('x-understudy-attempts')).toBe('2');
      expect(h.sim.callsFor('primary')).toHaveLength(1);
      expect(h.sim.callsFor('backup')).toHaveLength(1);
    });
  });

  describe('client errors and safety decisions', () => {
    it('content_filter: the provider’s 400 and reason reach the client, no fallback', async () => {
      const h = await startChat({ kind: 'content_filter' });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      const error = expectHttpError(out, 400, 'content_filter');
      expect(error.message).toMatch(/content management policy/);
      expect(error.param).toBe('prompt');
      expect(out.headers.get('x-understudy-fallback-reason')).toBe('content_policy');
      expect(h.sim.callsFor('primary')).toHaveLength(1);
      expect(h.sim.callsFor('backup')).toHaveLength(0);
      const record = await h.record(out.headers.get('x-request-id'));
      expect(record.status).toBe(400);
      expect(record.attempts[0]?.decision).toEqual({ action: 'stop', rule: 'content_policy' });
    });

    it('content_filter with fallback_on_content_policy: true falls back', async () => {
      const h = await startChat({ kind: 'content_filter' }, undefined, { policy: { fallback_on_content_policy: true } });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 2, reason: 'content_policy' });
      expect(h.sim.callsFor('primary')).toHaveLength(1);
    });

    it('invalid_request (upstream 400) is returned as a 400, no fallback', async () => {
      const h = await startChat({ kind: 'invalid_request' });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      const error = expectHttpError(out, 400, 'invalid_value');
      expect(error.param).toBe('temperature');
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toMatch(/temperature/);
      expect(h.sim.callsFor('primary')).toHaveLength(1);
      expect(h.sim.callsFor('backup')).toHaveLength(0);
    });
  });

  describe('when every rung fails', () => {
    it('→ 503 in OpenAI error shape listing the attempts, x-should-retry: false', async () => {
      const h = await startChat({ kind: 'status', status: 500 }, { kind: 'garbage' });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      const error = expectHttpError(out, 503, 'all_targets_failed');
      expect(error).toBeInstanceOf(InternalServerError);
      expect(error.type).toBe('server_error');
      expect(out.headers.get('x-should-retry')).toBe('false');
      expect(out.headers.get('x-understudy-attempts')).toBe('3');
      expect(out.headers.get('x-understudy-fallback-reason')).toBe('server_error,malformed_response');
      expect(out.headers.get('x-understudy-served-by')).toBeNull();
      expect(error.message).toContain('sim/primary: server_error (HTTP 500)');
      expect(error.message).toContain('sim/backup: malformed_response');
      const body = error.error as { attempts?: { target: string; kind: string | null; status: number | null }[] };
      expect(body.attempts?.map((a) => [a.target, a.kind, a.status])).toEqual([
        ['sim/primary', 'server_error', 500],
        ['sim/primary', 'server_error', 500],
        ['sim/backup', 'malformed_response', null],
      ]);
      // No provider key leaks into the answer.
      expect(JSON.stringify(error.error)).not.toContain('sk-test-');
      const record = await h.record(out.headers.get('x-request-id'));
      expect(record.status).toBe(503);
    });

    it('x-should-retry: false stops the SDK’s own retries from multiplying the ladder', async () => {
      const h = await startChat({ kind: 'status', status: 500 }, { kind: 'status', status: 503 });
      const retrying = new OpenAI({ baseURL: h.gateway.url, apiKey: 'test', maxRetries: 3 });
      const out = await chat(retrying, mode, { model: 'chat', messages: USER_MESSAGES });
      expectHttpError(out, 503, 'all_targets_failed');
      expect(h.sim.calls).toHaveLength(4);
      expect(h.records).toHaveLength(1);
    });

    it('all rate limited → 429 with retry-after the shortest wait', async () => {
      const h = await startChat({ kind: 'rate_limit', retry_after_s: 30 }, { kind: 'rate_limit', retry_after_s: 7 });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      const error = expectHttpError(out, 429, 'all_targets_rate_limited');
      expect(error).toBeInstanceOf(RateLimitError);
      expect(out.headers.get('retry-after')).toBe('7');
      expect(out.headers.get('retry-after-ms')).toBe('7000');
      expect(out.headers.get('x-should-retry')).toBe('false');
      expect(out.ms).toBeLessThan(5_000);

      // While both cool down, the next request is answered at once without calling either.
      const again = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      expectHttpError(again, 429, 'all_targets_rate_limited');
      expect(Number(again.headers.get('retry-after-ms'))).toBeLessThanOrEqual(7_000);
      expect(Number(again.headers.get('retry-after-ms'))).toBeGreaterThan(5_000);
      expect(again.headers.get('x-understudy-attempts')).toBe('0');
      expect(again.headers.get('x-understudy-fallback-reason')).toBe('rate_limited');
      expect(again.headers.get('x-understudy-skipped')).toContain('cooling down after rate_limited');
      expect(h.sim.calls).toHaveLength(2);
    });

    it('a static last rung answers 200 with its text, marked degraded', async () => {
      const h = await start({
        simulators: { sim: { primary: { kind: 'status', status: 500 }, backup: { kind: 'no_response' } } },
        routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }, { static: STATIC_TEXT }] } },
      });
      const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
      expectServed(out, {
        servedBy: 'understudy/static',
        model: 'understudy/static',
        text: STATIC_TEXT,
        attempts: 4,
        reason: 'server_error,timeout_headers',
        degraded: true,
      });
      const record = await h.record(out.headers.get('x-request-id'));
      expect(record).toMatchObject({ status: 200, degraded: true, servedBy: 'understudy/static' });
    });
  });

  it('the request deadline bounds slow rungs; the static rung still answers', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'slow_first_token', delay_ms: 10_000 }, backup: { kind: 'no_response' } } },
      routes: {
        chat: {
          deadline_ms: 500,
          timeouts: { headers_ms: 20_000, first_token_ms: 20_000, stall_ms: 20_000, total_ms: 60_000 },
          ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }, { static: STATIC_TEXT }],
        },
      },
    });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'understudy/static', model: 'understudy/static', text: STATIC_TEXT, attempts: 2, reason: 'deadline_exceeded', degraded: true });
    expect(out.ms).toBeGreaterThanOrEqual(500);
    expect(out.ms).toBeLessThan(500 + 3_000);
    expect(h.sim.callsFor('primary')).toHaveLength(1);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
    // The upstream call that ran into the deadline was aborted.
    await expect.poll(() => h.sim.openConnections(), { timeout: 3_000, interval: 10 }).toBe(0);
  });

  it('the request deadline without a static rung ends with 503 by the deadline', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'no_response' }, backup: { kind: 'ok' } } },
      routes: {
        chat: {
          deadline_ms: 400,
          timeouts: { headers_ms: 20_000, first_token_ms: 20_000, total_ms: 60_000 },
          ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }],
        },
      },
    });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expectHttpError(out, 503, 'all_targets_failed');
    expect(out.headers.get('x-understudy-fallback-reason')).toBe('deadline_exceeded');
    expect(out.ms).toBeGreaterThanOrEqual(400);
    expect(out.ms).toBeLessThan(400 + 3_000);
    expect(h.sim.callsFor('backup')).toHaveLength(0);
  });

  it('the request deadline also bounds a slow stream after its first token', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'ok', text: PRIMARY_TEXT, chunks: 30, chunk_delay_ms: 50 }, backup: { kind: 'ok', text: BACKUP_TEXT } } },
      routes: {
        chat: {
          deadline_ms: 400,
          timeouts: { headers_ms: 20_000, first_token_ms: 20_000, stall_ms: 20_000, total_ms: 60_000 },
          ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }, { static: STATIC_TEXT }],
        },
      },
    });
    const out = await chat(h.client, mode, { model: 'chat', messages: USER_MESSAGES });
    expect(out.ms).toBeGreaterThanOrEqual(400);
    expect(out.ms).toBeLessThan(400 + 3_000);
    if (mode === 'stream') {
      // Output was already sent: the stream ends with an explicit error, never a truncated success.
      expect(out.headers.get('x-understudy-served-by')).toBe('sim/primary');
      expect(out.streamEnded).toBe(false);
      expect(out.streamError).toBeInstanceOf(APIError);
      expect(String((out.streamError as Error).message)).toContain('deadline_exceeded');
      expect(out.text.length).toBeGreaterThan(0);
      expect(PRIMARY_TEXT.startsWith(out.text) && out.text !== PRIMARY_TEXT).toBe(true);
    } else {
      // Nothing was sent yet: live rungs stop, the static rung answers.
      expectServed(out, { servedBy: 'understudy/static', model: 'understudy/static', text: STATIC_TEXT, attempts: 2, reason: 'deadline_exceeded', degraded: true });
    }
    expect(h.sim.callsFor('backup')).toHaveLength(0);
    await expect.poll(() => h.sim.openConnections(), { timeout: 3_000, interval: 10 }).toBe(0);
  });

  describe('fallback_models in the request', () => {
    function startSolo() {
      return start({
        simulators: { sim: { primary: { kind: 'status', status: 500 }, backup: { kind: 'ok', text: BACKUP_TEXT }, healthy: { kind: 'ok', text: PRIMARY_TEXT } } },
        routes: {
          solo: { ladder: [{ targets: 'sim/primary' }, { static: STATIC_TEXT }] },
          fine: { ladder: [{ targets: 'sim/healthy' }] },
        },
      });
    }

    it('go after the live rungs and before the static rung', async () => {
      const h = await startSolo();
      const out = await chat(h.client, mode, { model: 'solo', messages: USER_MESSAGES, fallback_models: ['sim/backup'] });
      expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 3, reason: 'server_error', route: 'solo' });
      expect(h.sim.callsFor('primary')).toHaveLength(2);
      // The gateway's own field never goes upstream.
      expect(h.sim.callsFor('backup')[0]?.body).not.toHaveProperty('fallback_models');

      const without = await chat(h.client, mode, { model: 'solo', messages: USER_MESSAGES });
      expectServed(without, { servedBy: 'understudy/static', model: 'understudy/static', text: STATIC_TEXT, attempts: 3, reason: 'server_error', degraded: true });
      expect(h.sim.callsFor('backup')).toHaveLength(1);
    });

    it('are not called when the route serves', async () => {
      const h = await startSolo();
      const out = await chat(h.client, mode, { model: 'fine', messages: USER_MESSAGES, fallback_models: ['sim/backup'] });
      expectServed(out, { servedBy: 'sim/healthy', model: 'healthy', text: PRIMARY_TEXT, attempts: 1, reason: undefined });
      expect(h.sim.callsFor('backup')).toHaveLength(0);
    });

    it('when they fail too, the static rung still answers', async () => {
      const h = await startSolo();
      const out = await chat(h.client, mode, { model: 'solo', messages: USER_MESSAGES, fallback_models: ['sim/primary'] });
      expect(out.headers.get('x-understudy-served-by')).toBe('understudy/static');
      expect(out.text).toBe(STATIC_TEXT);
      expect(h.sim.callsFor('primary')).toHaveLength(4);
    });

    it('build a ladder for a direct provider/model', async () => {
      const h = await startSolo();
      const out = await chat(h.client, mode, { model: 'sim/primary', messages: USER_MESSAGES, fallback_models: ['sim/backup'] });
      expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 3, reason: 'server_error', route: 'sim/primary' });
    });
  });

  it('a direct provider/model as `model` is served by that target', async () => {
    const h = await startChat({ kind: 'ok', text: PRIMARY_TEXT });
    const out = await chat(h.client, mode, { model: 'sim/backup', messages: USER_MESSAGES });
    expectServed(out, { servedBy: 'sim/backup', model: 'backup', text: BACKUP_TEXT, attempts: 1, reason: undefined, route: 'sim/backup' });
    expect(h.sim.callsFor('backup')[0]?.body.model).toBe('backup');
    expect(h.sim.callsFor('primary')).toHaveLength(0);
  });

  it('an unknown provider/model is a 404 model_not_found', async () => {
    const h = await startChat({ kind: 'ok' });
    const out = await chat(h.client, mode, { model: 'nobody/nothing', messages: USER_MESSAGES });
    const error = expectHttpError(out, 404, 'model_not_found');
    expect(error.param).toBe('model');
    expect(error).toBeInstanceOf(APIError);
    expect(h.sim.calls).toHaveLength(0);
  });
});
