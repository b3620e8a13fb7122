import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { createSimulator, scenarioSchema, type Scenario } from '../simulator/index.js';
import type { Output } from './output.js';
import { UsageError } from './start.js';

/** Models the simulator serves when no file is given: one per behaviour, named after it. */
export const DEFAULT_SIM_MODELS: Record<string, Scenario> = {
  ok: { kind: 'ok' },
  slow: { kind: 'ok', latency_ms: 2000 },
  'slow-first-token': { kind: 'slow_first_token', delay_ms: 5000 },
  'rate-limited': { kind: 'rate_limit', retry_after_s: 2 },
  'rate-limited-no-retry-after': { kind: 'rate_limit' },
  'no-quota': { kind: 'insufficient_quota' },
  'server-error': { kind: 'status', status: 500 },
  overloaded: { kind: 'status', status: 529 },
  flaky: { kind: 'fail_first', n: 2, failure: { kind: 'status', status: 503 }, then: { kind: 'ok' } },
  outage: { kind: 'outage', down_ms: 10_000, every_ms: 30_000, then: { kind: 'ok' } },
  reset: { kind: 'reset' },
  'no-response': { kind: 'no_response' },
  cut: { kind: 'cut', after_chunks: 2 },
  stall: { kind: 'stall', after_chunks: 2 },
  'malformed-chunk': { kind: 'malformed_chunk', after_chunks: 1 },
  'missing-done': { kind: 'missing_done' },
  empty: { kind: 'empty' },
  'context-window': { kind: 'context_window', limit: 4096 },
  'content-filter': { kind: 'content_filter' },
  garbage: { kind: 'garbage' },
  'midstream-error': { kind: 'midstream_error', after_chunks: 2 },
  'tool-call': { kind: 'tool_call' },
  json: { kind: 'json' },
};

const simFileSchema = z.strictObject({
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  models: z.record(z.string(), scenarioSchema),
});

export interface SimulateArgs {
  config?: string;
  port?: number;
  host?: string;
}

/** `understudy simulate`: a fake OpenAI-wire upstream with scripted faults. Resolves to a stop function. */
export async function simulate(args: SimulateArgs, out: Output): Promise<() => Promise<void>> {
  let models = DEFAULT_SIM_MODELS;
  let host = args.host ?? '127.0.0.1';
  let port = args.port ?? 4200;
  if (args.config) {
    const parsed = simFileSchema.safeParse(parse(readFileSync(args.config, 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(`${args.config}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
    }
    models = parsed.data.models;
    host = args.host ?? parsed.data.host ?? host;
    port = args.port ?? parsed.data.port ?? port;
  }
  const sim = createSimulator({ models, host, port });
  await sim.listen();
  out.info(`understudy simulator listening on ${sim.origin}`);
  out.info(`  base_url for type openai: ${sim.baseUrls.openai}   anthropic: ${sim.baseUrls.anthropic}   gemini: ${sim.baseUrls.gemini}`);
  out.info('Models (each speaks all three wire formats):');
  for (const [name, scenario] of Object.entries(models)) out.info(`  ${name.padEnd(28)} ${scenario.kind}`);
  return () => sim.close();
}
