import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfigFile, parseConfig } from './load.js';
import { DEFAULT_SERVER_LIMITS } from './server-limits.js';

const EXAMPLE = new URL('../../examples/understudy.yaml', import.meta.url);

function problemsOf(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(text, 'test.yaml', { env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const base = `providers:
  primary: { type: openai, base_url: https://api.openai.com/v1 }
routes:
  chat:
    ladder:
      - targets: [primary/gpt-4o]
`;

describe('config loading', () => {
  it('loads the example from the issue, with timeouts, retries, static rung and deadline', () => {
    const config = loadConfigFile(EXAMPLE.pathname, { env: { OPENAI_API_KEY: 'sk-test-123456789' } });
    const chat = config.routes.chat;
    expect(chat?.deadlineMs).toBe(90_000);
    expect(chat?.ladder).toEqual([
      {
        type: 'targets',
        targets: ['primary/gpt-4o'],
        timeouts: { headersMs: 10_000, firstTokenMs: 8_000, stallMs: 10_000, totalMs: 60_000 },
        retries: 1,
        strategy: 'weighted',
        weights: { 'primary/gpt-4o': 1 },
      },
      { type: 'targets', targets: ['local/llama3'], timeouts: expect.any(Object), retries: 1, strategy: 'weighted', weights: { 'local/llama3': 1 } },
      { type: 'static', content: 'The assistant is busy right now. Please try again in a minute.' },
    ]);
    expect(config.providers.primary?.apiKey?.reveal()).toBe('sk-test-123456789');
    expect(config.providers.local?.apiKey).toBeUndefined();
  });

  it('never prints a provider key: JSON, inspect and string conversion are redacted', () => {
    const config = loadConfigFile(EXAMPLE.pathname, { env: { OPENAI_API_KEY: 'sk-test-123456789' } });
    expect(JSON.stringify(config)).not.toContain('sk-test');
    expect(inspect(config, { depth: 10 })).not.toContain('sk-test');
    expect(String(config.providers.primary?.apiKey)).toBe('[redacted]');
  });

  it('names a missing environment variable with file, line and path', () => {
    const error = problemsOf(readFileSync(EXAMPLE, 'utf8'));
    expect(error.message).toContain('test.yaml:5:');
    expect(error.problems[0]).toMatchObject({ path: 'providers.primary.api_key', line: 5 });
    expect(error.message).toContain('OPENAI_API_KEY is not set');
  });

  it('supports ${env:NAME:-default}', () => {
    const config = parseConfig(base.replace('https://api.openai.com/v1', '${env:BASE:-http://127.0.0.1:9/v1}'), 't', { env: {} });
    expect(config.providers.primary?.baseUrl).toBe('http://127.0.0.1:9/v1');
  });

  it('rejects an unknown key, naming it, its path and line', () => {
    const error = problemsOf(base.replace('      - targets: [primary/gpt-4o]', '      - targets: [primary/gpt-4o]\n        retires: 2'));
    expect(error.problems[0]).toMatchObject({ path: 'routes.chat.ladder[0].retires', line: 7 });
    expect(error.problems[0]?.message).toContain("unknown key 'retires'");
  });

  it('checks cross-references: an unknown provider lists the known ones', () => {
    const error = problemsOf(base.replace('[primary/gpt-4o]', '[primry/gpt-4o]'));
    expect(error.problems[0]).toMatchObject({ path: 'routes.chat.ladder[0].targets[0]', line: 6 });
    expect(error.problems[0]?.message).toBe("unknown provider 'primry' in 'primry/gpt-4o' (expected one of: primary)");
  });

  it('says what was expected for a wrong type', () => {
    const error = problemsOf(base + '    deadline_ms: soon\n');
    expect(error.problems[0]).toMatchObject({ path: 'routes.chat.deadline_ms', line: 7 });
    expect(error.problems[0]?.message).toMatch(/expected number/i);
  });

  it('rejects a target that is not provider/model and an unknown provider type', () => {
    expect(problemsOf(base.replace('[primary/gpt-4o]', '[gpt-4o]')).problems[0]?.message).toContain('expected "provider/model"');
    expect(problemsOf(base.replace('type: openai', 'type: openia')).problems[0]?.path).toBe('providers.primary.type');
  });

  it('rejects rungs after a static rung (unreachable)', () => {
    const error = problemsOf(base + '      - static: busy\n      - targets: [primary/gpt-4o-mini]\n');
    expect(error.problems[0]).toMatchObject({ path: 'routes.chat.ladder[2]', line: 8 });
  });

  it('reports YAML syntax errors with their line', () => {
    const error = problemsOf('providers:\n  a: { type: openai\nroutes: {}\n');
    expect(error.problems[0]?.line).toBeGreaterThanOrEqual(2);
    expect(error.message).toContain('test.yaml:');
  });

  it('reports a missing file by name', () => {
    expect(() => loadConfigFile('/nonexistent/understudy.yaml')).toThrow(/nonexistent\/understudy.yaml.*file not found/s);
  });

  it('applies defaults: generous timeouts, one retry, 127.0.0.1:4100, 10 MB body limit', () => {
    const config = parseConfig(base, 't', { env: {} });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 4100, bodyLimitBytes: 10 * 1024 * 1024, ...DEFAULT_SERVER_LIMITS });
    expect(config.routes.chat?.ladder[0]).toMatchObject({ retries: 1, timeouts: { headersMs: 15_000, firstTokenMs: 120_000, stallMs: 60_000, totalMs: 600_000 } });
  });
});

describe('breaker and retry budget config', () => {
  it('maps snake_case keys onto the defaults', () => {
    const config = parseConfig(base + 'breaker: { cooldown_ms: 5000, consecutive_failures: 3 }\nretry_budget: { ratio: 0.1, min_retries_per_window: 2 }\n', 't', { env: {} });
    expect(config.breaker).toMatchObject({ cooldownMs: 5_000, consecutiveFailures: 3, window: 20 });
    expect(config.retryBudget).toMatchObject({ ratio: 0.1, minRetriesPerWindow: 2, windowMs: 10_000 });
  });

  it('rejects unknown keys and impossible values with the path', () => {
    expect(problemsOf(base + 'breaker: { cooldown: 5 }\n').problems[0]?.path).toBe('breaker.cooldown');
    expect(problemsOf(base + 'breaker: { failure_rate: 2 }\n').problems[0]?.path).toBe('breaker.failure_rate');
    expect(problemsOf(base + 'breaker: { min_requests: 50 }\n').problems[0]?.message).toBe('breaker.min_requests (50) must not exceed breaker.window (20)');
  });
});

describe('hedging, continuation and the cost cap', () => {
  it('defaults: no hedging, continuation on for plain text, no cost cap', () => {
    const config = parseConfig(base, 't', { env: {} });
    const chat = config.routes.chat;
    expect(chat?.ladder[0]).toMatchObject({ hedgeAfterMs: undefined });
    expect(chat?.continuation).toMatchObject({ enabled: true, withTools: false, withJson: false, minOverlapChars: 12 });
    expect(chat?.maxExtraCost).toBeUndefined();
  });

  it('reads hedge_after_ms per rung, and continuation and max_extra_cost from defaults with route overrides', () => {
    const text = `providers:
  primary: { type: openai, base_url: https://api.openai.com/v1 }
defaults:
  continuation: { with_tools: true, min_overlap_chars: 20 }
  max_extra_cost: 0.5
routes:
  chat:
    ladder:
      - { targets: [primary/gpt-4o, primary/gpt-4o-mini], hedge_after_ms: 800 }
    continuation: { enabled: false }
    max_extra_cost: 0.1
  other:
    ladder: [{ targets: primary/gpt-4o }]
`;
    const config = parseConfig(text, 't', { env: {} });
    expect(config.routes.chat?.ladder[0]).toMatchObject({ hedgeAfterMs: 800 });
    expect(config.routes.chat?.continuation).toMatchObject({ enabled: false, withTools: true, minOverlapChars: 20 });
    expect(config.routes.chat?.maxExtraCost).toBe(0.1);
    expect(config.routes.other?.continuation).toMatchObject({ enabled: true, withTools: true });
    expect(config.routes.other?.maxExtraCost).toBe(0.5);
  });

  it('rejects a non-positive hedge_after_ms, a negative cap and unknown continuation keys', () => {
    const bad = (route: string) => problemsOf(`providers:\n  primary: { type: openai, base_url: https://api.openai.com/v1 }\nroutes:\n  chat:\n${route}`).message;
    expect(bad('    ladder: [{ targets: primary/gpt-4o, hedge_after_ms: 0 }]\n')).toMatch(/hedge_after_ms/);
    expect(bad('    ladder: [{ targets: primary/gpt-4o }]\n    max_extra_cost: -1\n')).toMatch(/max_extra_cost/);
    expect(bad('    ladder: [{ targets: primary/gpt-4o }]\n    continuation: { splice: true }\n')).toMatch(/splice/);
  });
});
