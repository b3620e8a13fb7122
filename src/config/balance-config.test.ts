import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load.js';

function problemsOf(text: string): ConfigError {
  try {
    parseConfig(text, 'test.yaml', { env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const providers = `providers:
  a:
    type: openai
    base_url: http://127.0.0.1:9/v1
    models:
      gpt-4o: { price: { input_per_mtok: 2.5, output_per_mtok: 10 }, rpm: 500, tpm: 30000 }
      mini: { price: { input_per_mtok: 0.15, output_per_mtok: 0.6 } }
  b: { type: openai, base_url: http://127.0.0.1:9/v1 }
`;

describe('load-balancing and affinity config', () => {
  it('accepts plain targets and { target, weight } entries side by side, and a strategy', () => {
    const config = parseConfig(
      `${providers}routes:
  chat:
    ladder:
      - targets: [a/gpt-4o, { target: b/gpt-4o, weight: 3 }]
        strategy: least_busy
      - targets: a/mini
`,
      't',
      { env: {} },
    );
    expect(config.routes.chat?.ladder[0]).toMatchObject({ targets: ['a/gpt-4o', 'b/gpt-4o'], strategy: 'least_busy', weights: { 'a/gpt-4o': 1, 'b/gpt-4o': 3 } });
    expect(config.routes.chat?.ladder[1]).toMatchObject({ targets: ['a/mini'], strategy: 'weighted', weights: { 'a/mini': 1 } });
  });

  it('reads per-model prices and rate limits beside the capability overrides', () => {
    const config = parseConfig(`${providers}routes: { chat: { ladder: [{ targets: [a/gpt-4o] }] } }\n`, 't', { env: {} });
    expect(config.providers.a?.modelPrices).toEqual({ 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 }, mini: { inputPerMTok: 0.15, outputPerMTok: 0.6 } });
    expect(config.providers.a?.modelLimits).toEqual({ 'gpt-4o': { rpm: 500, tpm: 30_000 } });
    expect(config.providers.b?.modelPrices).toEqual({});
  });

  it('turns affinity on for 30 minutes by default; defaults and routes override it', () => {
    const on = parseConfig(`${providers}routes: { chat: { ladder: [{ targets: [a/gpt-4o] }] } }\n`, 't', { env: {} });
    expect(on.routes.chat?.affinity).toEqual({ enabled: true, ttlMs: 1_800_000 });
    const tuned = parseConfig(
      `${providers}defaults: { affinity: { ttl_ms: 60000 } }
routes:
  chat: { ladder: [{ targets: [a/gpt-4o] }] }
  batch: { ladder: [{ targets: [a/gpt-4o] }], affinity: { enabled: false } }
`,
      't',
      { env: {} },
    );
    expect(tuned.routes.chat?.affinity).toEqual({ enabled: true, ttlMs: 60_000 });
    expect(tuned.routes.batch?.affinity).toEqual({ enabled: false, ttlMs: 60_000 });
  });

  it('rejects an unknown strategy, a bad weight and an unknown key in a target entry, with file, line and path', () => {
    const strategy = problemsOf(`${providers}routes:\n  chat:\n    ladder:\n      - targets: [a/gpt-4o, b/gpt-4o]\n        strategy: fastest\n`);
    expect(strategy.problems[0]).toMatchObject({ path: 'routes.chat.ladder[0].strategy', line: 13 });
    expect(strategy.problems[0]?.message).toContain('least_latency');

    const weight = problemsOf(`${providers}routes:\n  chat:\n    ladder:\n      - targets:\n          - a/gpt-4o\n          - { target: b/gpt-4o, weight: 0 }\n`);
    expect(weight.problems[0]).toMatchObject({ path: 'routes.chat.ladder[0].targets[1].weight', line: 14 });
    expect(weight.message).toContain('test.yaml:14:');

    const key = problemsOf(`${providers}routes:\n  chat:\n    ladder:\n      - targets: [{ target: b/gpt-4o, wieght: 2 }]\n`);
    expect(key.problems[0]).toMatchObject({ path: 'routes.chat.ladder[0].targets[0].wieght', message: "unknown key 'wieght'" });
  });

  it('checks target entries like plain targets: unknown providers and duplicates', () => {
    const error = problemsOf(`${providers}routes:\n  chat:\n    ladder:\n      - targets: [a/gpt-4o, { target: c/gpt-4o, weight: 2 }, { target: a/gpt-4o, weight: 2 }]\n`);
    expect(error.problems.map((p) => [p.path, p.message])).toEqual([
      ['routes.chat.ladder[0].targets[1]', "unknown provider 'c' in 'c/gpt-4o' (expected one of: a, b)"],
      ['routes.chat.ladder[0].targets[2]', "'a/gpt-4o' appears twice in this rung"],
    ]);
  });

  it('rejects a cheapest rung with an unpriced target, naming the key to set', () => {
    const error = problemsOf(`${providers}routes:\n  chat:\n    ladder:\n      - targets: [a/gpt-4o, b/gpt-4o]\n        strategy: cheapest\n`);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ path: 'routes.chat.ladder[0].targets[1]', line: 12 });
    expect(error.problems[0]?.message).toBe("strategy cheapest needs a price for every target, and 'b/gpt-4o' has none (set providers.b.models.gpt-4o.price)");
  });

  it('rejects negative prices and non-integer limits', () => {
    expect(problemsOf(providers.replace('input_per_mtok: 2.5', 'input_per_mtok: -1') + 'routes: {}\n').problems[0]?.path).toBe('providers.a.models.gpt-4o.price.input_per_mtok');
    expect(problemsOf(providers.replace('rpm: 500', 'rpm: 1.5') + 'routes: {}\n').problems[0]?.path).toBe('providers.a.models.gpt-4o.rpm');
  });

  it('checks embeddings ladders written with target entries too', () => {
    const error = problemsOf(
      `${providers}routes:\n  embed:\n    kind: embeddings\n    ladder:\n      - targets: [{ target: a/text-embedding-3-small, weight: 2 }, { target: b/text-embedding-3-large }]\n`,
    );
    expect(error.problems[0]?.path).toBe('routes.embed.ladder[0].targets[1]');
    expect(error.problems[0]?.message).toContain("serves 'text-embedding-3-large'");
  });
});
