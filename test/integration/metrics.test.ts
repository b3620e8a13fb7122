/** `GET /metrics` over real sockets: Prometheus text with bounded labels, fed by real requests. */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { chat, USER_MESSAGES, useHarness } from './harness.js';

const start = useHarness();

async function scrape(url: string): Promise<{ contentType: string; text: string }> {
  const res = await request(url.replace(/\/v1$/, '/metrics'));
  return { contentType: String(res.headers['content-type']), text: await res.body.text() };
}

/** The sum of the samples of `name` whose labels include `labels` (undefined when none matches). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    const have = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('GET /metrics', () => {
  it('counts requests, attempts, fallbacks and retries, times them, and reports breaker state', async () => {
    const h = await start({
      simulators: { sim: { primary: { kind: 'status', status: 503 }, backup: { kind: 'ok', text: 'fine' } } },
      routes: { chat: { ladder: [{ targets: 'sim/primary' }, { targets: 'sim/backup' }] } },
      breaker: { consecutive_failures: 2, min_requests: 20 },
    });
    for (let i = 0; i < 2; i++) await chat(h.client, 'non-stream', { model: 'chat', messages: USER_MESSAGES });
    await chat(h.client, 'non-stream', { model: 'missing', messages: USER_MESSAGES });
    const { contentType, text } = await scrape(h.gateway.url);
    expect(contentType).toMatch(/^text\/plain/);
    expect(sample(text, 'understudy_requests_total', { route: 'chat', status_class: '2xx', outcome: 'served' })).toBe(2);
    expect(sample(text, 'understudy_requests_total', { route: 'other', status_class: '4xx', outcome: 'rejected' })).toBe(1);
    expect(sample(text, 'understudy_attempts_total', { route: 'chat', target: 'sim/primary', outcome: 'failed', kind: 'overloaded', reason: 'primary' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'understudy_attempts_total', { route: 'chat', target: 'sim/backup', outcome: 'ok' })).toBe(2);
    // The second request skipped the primary (circuit open): a skipped candidate, counted as such.
    expect(sample(text, 'understudy_attempts_total', { route: 'chat', target: 'sim/primary', outcome: 'skipped' })).toBe(1);
    expect(sample(text, 'understudy_fallbacks_total', { route: 'chat', reason: 'overloaded' })).toBe(2);
    expect(sample(text, 'understudy_retries_total', { route: 'chat', result: 'failure' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'understudy_request_duration_seconds_count', { route: 'chat' })).toBe(2);
    expect(sample(text, 'understudy_fallback_added_latency_seconds_count', { route: 'chat' })).toBe(2);
    expect(sample(text, 'understudy_breaker_state', { target: 'sim/primary' })).toBe(2); // open after two failures
    expect(sample(text, 'understudy_breaker_state', { target: 'sim/backup' })).toBe(0);
    expect(sample(text, 'understudy_retry_budget_remaining', { route: 'chat' })).toBeGreaterThanOrEqual(0);
    // Bounded labels: nothing per request or per key.
    expect(text).not.toMatch(/request_id|key_id|x-request-id/);
  });
});
