import { Writable } from 'node:stream';
import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/engine/fake-clock.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { chat, expectServed, USER_MESSAGES, useHarness, type Harness, type HarnessOptions } from './harness.js';

/**
 * Game days at run time: the admin API adds and removes fault rules without a restart, and an
 * inference request may carry its own fault in a header — both only with the admin key.
 */
const KEY = 'adm-test-0123456789abcdef';
const ADMIN = { authorization: `Bearer ${KEY}` };

const start = useHarness();

function setup(options: { adminKey?: boolean; faults?: unknown[]; retries?: number; gatewayOptions?: HarnessOptions['gatewayOptions'] } = {}): Promise<Harness> {
  return start({
    simulators: { sim: { primary: { kind: 'ok', text: 'from primary' }, backup: { kind: 'ok', text: 'from backup' } } },
    routes: { chat: { ladder: [{ targets: ['sim/primary'] }, { targets: ['sim/backup'] }] } },
    defaults: { retries: options.retries ?? 0 },
    breaker: { consecutive_failures: 1000, failure_rate: 1, min_requests: 1000, window: 1000 },
    server: options.adminKey === false ? {} : { admin_key: KEY },
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.gatewayOptions ? { gatewayOptions: options.gatewayOptions } : {}),
  });
}

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

async function admin(h: Harness, method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const response = await fetch(`${h.origin}${path}`, {
    method,
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(options.headers ?? ADMIN) },
    ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const served = (h: Harness, headers?: Record<string, string>) => chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES }, headers ? { headers } : {});

function errorOf(reply: Reply): { message: string; type: string; code: string | null; param: string | null } {
  const body = reply.body as { error?: { message: string; type: string; code: string | null; param: string | null } };
  expect(body.error, reply.text).toBeDefined();
  return body.error as { message: string; type: string; code: string | null; param: string | null };
}

describe('admin API: authentication', () => {
  it('is a 404 in OpenAI error shape when server.admin_key is absent, even with a key', async () => {
    const h = await setup({ adminKey: false });
    for (const path of ['/admin/faults', '/admin/faults/config-0', '/admin']) {
      const reply = await admin(h, 'GET', path);
      expect(reply.status).toBe(404);
      expect(errorOf(reply)).toMatchObject({ code: 'admin_disabled', type: 'invalid_request_error', param: null });
      expect(errorOf(reply).message).toContain('server.admin_key');
    }
  });

  it('answers 401 to a missing or wrong key (any length, either header) and serves the right one', async () => {
    const h = await setup();
    const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer nope' }, { authorization: `Bearer ${KEY.replace('a', 'b')}` }, { authorization: `Bearer ${KEY}x` }, { 'x-understudy-admin-key': KEY.slice(1) }, { authorization: `Basic ${KEY}` }];
    for (const headers of wrong) {
      const reply = await admin(h, 'GET', '/admin/faults', { headers });
      expect(reply.status, JSON.stringify(headers)).toBe(401);
      expect(errorOf(reply)).toMatchObject({ code: 'invalid_admin_key', type: 'invalid_request_error', param: null });
      expect(reply.headers.get('www-authenticate')).toContain('Bearer');
    }
    // Unauthenticated callers learn nothing about paths or methods.
    expect((await admin(h, 'PUT', '/admin/nothing', { headers: {} })).status).toBe(401);
    for (const headers of [ADMIN, { 'x-understudy-admin-key': KEY }] as Record<string, string>[]) {
      const reply = await admin(h, 'GET', '/admin/faults', { headers });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ object: 'list', data: [] });
      expect([...reply.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
    }
    expect((await admin(h, 'OPTIONS', '/admin/faults', { headers: { origin: 'https://example.com', ...ADMIN } })).status).toBe(405);
    expect((await admin(h, 'GET', '/admin/other')).status).toBe(404);
  });
});

describe('admin API: fault rules at run time', () => {
  it('a POSTed 503 moves the next request to the backup; the list shows it beside config rules; DELETE restores the primary', async () => {
    const h = await setup({ faults: [{ target: 'sim/backup', fault: { kind: 'latency', ms: 1 }, daily: '02:00-03:00' }] });
    expectServed(await served(h), { servedBy: 'sim/primary', model: 'primary', text: 'from primary', attempts: 1, reason: undefined });

    const added = await admin(h, 'POST', '/admin/faults', { body: { target: 'sim/primary', fault: { kind: 'status', status: 503 } } });
    expect(added.status, added.text).toBe(201);
    const rule = added.body as { id: string };
    expect(added.body).toMatchObject({ source: 'admin', target: 'sim/primary', fault: { kind: 'status', status: 503 }, fraction: 1, expires_at: null, active: true });
    expect(added.headers.get('location')).toBe(`/admin/faults/${rule.id}`);

    const during = await served(h);
    expectServed(during, { servedBy: 'sim/backup', model: 'backup', text: 'from backup', attempts: 2, reason: 'overloaded' });
    expect(h.sims.sim?.callsFor('primary')).toHaveLength(1); // the injected failure made no upstream call

    const listed = await admin(h, 'GET', '/admin/faults');
    expect((listed.body as { data: unknown[] }).data).toEqual([
      expect.objectContaining({ id: 'config-0', source: 'config', target: 'sim/backup', fault: { kind: 'latency', ms: 1 }, daily: '02:00-03:00', created_at: null }),
      expect.objectContaining({ id: rule.id, source: 'admin', target: 'sim/primary' }),
    ]);

    const removed = await admin(h, 'DELETE', `/admin/faults/${rule.id}`);
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expectServed(await served(h), { servedBy: 'sim/primary', model: 'primary', text: 'from primary', attempts: 1, reason: undefined });
    expect((await admin(h, 'DELETE', `/admin/faults/${rule.id}`)).status).toBe(404);

    const config = await admin(h, 'DELETE', '/admin/faults/config-0');
    expect(config.status).toBe(409);
    expect(errorOf(config).code).toBe('config_fault');
  });

  it('validates a rule with the config schema: unknown target, bad fault, unknown key, a window already over', async () => {
    const h = await setup();
    const cases: [unknown, number, string, string | null][] = [
      [{ target: 'sim/nope', fault: { kind: 'reset' } }, 400, 'unknown_target', 'target'],
      [{ target: 'elsewhere/primary', fault: { kind: 'reset' } }, 400, 'unknown_target', 'target'],
      [{ target: 'sim/primary', fault: { kind: 'status', status: 200 } }, 400, 'invalid_value', 'fault.status'],
      [{ target: 'sim/primary', fault: { kind: 'melt' } }, 400, 'invalid_value', 'fault.kind'],
      [{ target: 'sim/primary', fault: { kind: 'reset' }, colour: 'red' }, 400, 'invalid_value', null],
      [{ target: 'sim/primary', fault: { kind: 'reset' }, fraction: 2 }, 400, 'invalid_value', 'fraction'],
      [{ target: 'sim/primary', fault: { kind: 'reset' }, from: 'tomorrow' }, 400, 'invalid_value', 'from'],
      [{ target: 'sim/primary', fault: { kind: 'reset' }, until: new Date(Date.now() - 1000).toISOString() }, 400, 'invalid_value', 'until'],
      [{ target: 'sim/primary', fault: { kind: 'reset' }, duration_ms: 0 }, 400, 'invalid_value', 'duration_ms'],
      [{ fault: { kind: 'reset' } }, 400, 'missing_required_parameter', 'target'],
      ['{not json', 400, 'invalid_json', null],
    ];
    for (const [body, status, code, param] of cases) {
      const reply = await admin(h, 'POST', '/admin/faults', { body });
      expect(reply.status, JSON.stringify(body)).toBe(status);
      expect(errorOf(reply), JSON.stringify(body)).toMatchObject({ code, type: 'invalid_request_error' });
      if (param !== null) expect(errorOf(reply).param, JSON.stringify(body)).toBe(param);
    }
    expect((await admin(h, 'GET', '/admin/faults')).body).toEqual({ object: 'list', data: [] });
    const method = await admin(h, 'PATCH', '/admin/faults');
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('GET, POST');
  });

  it('a rule with duration_ms drops out by itself when the injected clock passes its end', async () => {
    const clock = new FakeClock(Date.parse('2026-11-22T12:00:00Z'));
    const h = await setup({ gatewayOptions: { clock } });
    const added = await admin(h, 'POST', '/admin/faults', { body: { target: 'sim/primary', fault: { kind: 'reset' }, duration_ms: 60_000 } });
    expect(added.body).toMatchObject({ expires_at: '2026-11-22T12:01:00.000Z', until: '2026-11-22T12:01:00.000Z', created_at: '2026-11-22T12:00:00.000Z' });
    expectServed(await served(h), { servedBy: 'sim/backup', model: 'backup', text: 'from backup', attempts: 2, reason: 'connection' });

    await clock.advance(59_999);
    expect((await served(h)).headers.get('x-understudy-served-by')).toBe('sim/backup');
    await clock.advance(1);
    expectServed(await served(h), { servedBy: 'sim/primary', model: 'primary', text: 'from primary', attempts: 1, reason: undefined });
    expect((await admin(h, 'GET', '/admin/faults')).body).toEqual({ object: 'list', data: [] });
  });
});

describe('fault by header', () => {
  const FAULT = { 'x-understudy-fault': JSON.stringify({ kind: 'status', status: 503 }) };

  it('with the admin key and a target: that target fails (every attempt), the ladder falls back', async () => {
    const h = await setup({ retries: 1 });
    const outcome = await served(h, { ...FAULT, 'x-understudy-fault-target': 'sim/primary', 'x-understudy-admin-key': KEY });
    expectServed(outcome, { servedBy: 'sim/backup', model: 'backup', text: 'from backup', attempts: 3, reason: 'overloaded' });
    expect(h.sims.sim?.callsFor('primary')).toHaveLength(0);
    // Only that request: the next one is served by the primary.
    expectServed(await served(h), { servedBy: 'sim/primary', model: 'primary', text: 'from primary', attempts: 1, reason: undefined });
  });

  it('with the admin key and no target: only the request’s first upstream call fails (here the retry serves)', async () => {
    const h = await setup({ retries: 1 });
    const outcome = await served(h, { ...FAULT, 'x-understudy-admin-key': KEY });
    expectServed(outcome, { servedBy: 'sim/primary', model: 'primary', text: 'from primary', attempts: 2, reason: 'overloaded' });
    expect(h.sims.sim?.callsFor('primary')).toHaveLength(1);
  });

  it('without a valid admin key: 403 in OpenAI shape on /v1/chat/completions and Anthropic shape on /v1/messages', async () => {
    const h = await setup();
    for (const key of [undefined, 'wrong', KEY.slice(0, -1)]) {
      const headers = { ...FAULT, ...(key ? { 'x-understudy-admin-key': key } : {}) };
      const outcome = await served(h, headers);
      expect(outcome.error).toBeInstanceOf(APIError);
      expect(outcome.error?.status).toBe(403);
      expect(outcome.error?.error).toMatchObject({ code: 'fault_injection_forbidden', type: 'invalid_request_error', param: null });

      const response = await fetch(`${h.origin}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
        body: JSON.stringify({ model: 'chat', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(403);
      const body = (await response.json()) as { type: string; error: { type: string; message: string } };
      expect(body).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
      expect(body.error.message).toContain('x-understudy-admin-key');
    }
    // The Bearer form is the client's own API key on inference requests: it does not count.
    expect((await served(h, { ...FAULT, authorization: `Bearer ${KEY}` })).error?.status).toBe(403);
    expect(h.sims.sim?.calls ?? []).toHaveLength(0);
  });

  it('is refused when the gateway has no admin key at all', async () => {
    const h = await setup({ adminKey: false });
    const outcome = await served(h, { ...FAULT, 'x-understudy-admin-key': KEY });
    expect(outcome.error?.status).toBe(403);
    expect(outcome.error?.message).toContain('server.admin_key');
  });
});

describe('the admin key stays secret', () => {
  it('never appears in log lines, responses or the loaded config', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const h = await setup({ gatewayOptions: { logger: createLogger('trace', sink) } });
    const replies: string[] = [];
    const note = (reply: Reply): void => {
      replies.push(reply.text, JSON.stringify([...reply.headers]));
    };
    note(await admin(h, 'GET', '/admin/faults', { headers: { authorization: `Bearer ${KEY}x` } }));
    const added = await admin(h, 'POST', '/admin/faults', { body: { target: 'sim/primary', fault: { kind: 'reset' } } });
    note(added);
    note(await admin(h, 'GET', '/admin/faults'));
    note(await admin(h, 'DELETE', `/admin/faults/${(added.body as { id: string }).id}`));
    const header = await served(h, { 'x-understudy-fault': '{"kind":"reset"}', 'x-understudy-fault-target': 'sim/primary', 'x-understudy-admin-key': KEY });
    replies.push(JSON.stringify([...header.headers]), header.text);
    const refused = await served(h, { 'x-understudy-fault': '{"kind":"reset"}', 'x-understudy-admin-key': `${KEY}-wrong` });
    replies.push(JSON.stringify([...refused.headers]), refused.error?.message ?? '');

    expect(lines.some((l) => l.includes('admin: fault rule added'))).toBe(true);
    expect(lines.some((l) => l.includes('admin: fault rule deleted'))).toBe(true);
    for (const text of [...lines, ...replies, JSON.stringify(h.gateway.config)]) expect(text).not.toContain(KEY);
  });
});
