import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../engine/breaker.js';
import { DEFAULT_HEALTH_PROBE_CONFIG } from '../engine/health-probes.js';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load.js';

const base = `providers:
  primary: { type: openai, base_url: https://api.openai.com/v1 }
routes:
  chat:
    ladder:
      - targets: [primary/gpt-4o]
`;

describe('config: breaker.probes (active health probes)', () => {
  it('is off unless configured', () => {
    expect(parseConfig(base, 'test.yaml', { env: {} }).breakerProbes).toBeUndefined();
    expect(parseConfig(`${base}breaker: { cooldown_ms: 1000 }\n`, 'test.yaml', { env: {} }).breakerProbes).toBeUndefined();
  });

  it('an empty `probes:` turns them on with the defaults', () => {
    const config = parseConfig(`${base}breaker: { probes: {} }\n`, 'test.yaml', { env: {} });
    expect(config.breakerProbes).toEqual(DEFAULT_HEALTH_PROBE_CONFIG);
    expect(config.breaker).toEqual(DEFAULT_BREAKER_CONFIG);
  });

  it('reads every key, beside the breaker’s own', () => {
    const config = parseConfig(`${base}breaker: { cooldown_ms: 60000, probes: { interval_ms: 5000, timeout_ms: 2000, prompt: "Say OK", max_tokens: 3 } }\n`, 'test.yaml', { env: {} });
    expect(config.breakerProbes).toEqual({ intervalMs: 5_000, timeoutMs: 2_000, prompt: 'Say OK', maxTokens: 3 });
    expect(config.breaker.cooldownMs).toBe(60_000);
  });

  it.each([
    ['probes: { interval_ms: 0 }', 'interval_ms'],
    ['probes: { timeout_ms: 1.5 }', 'timeout_ms'],
    ['probes: { prompt: "" }', 'prompt'],
    ['probes: { max_tokens: 0 }', 'max_tokens'],
    ['probes: { every_ms: 1000 }', 'every_ms'],
  ])('rejects %s, naming %s', (yaml, key) => {
    let error: unknown;
    try {
      parseConfig(`${base}breaker: { ${yaml} }\n`, 'test.yaml', { env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as ConfigError).message)).toContain(key);
  });
});
