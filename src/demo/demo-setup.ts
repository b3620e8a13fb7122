import { parseConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createSimulator, type SimClock, type Simulator } from '../simulator/index.js';

/** The demo's outage schedule: the primary is down for DOWN_MS of every EVERY_MS, the first outage starting FIRST_OUTAGE_MS after start. */
export const DEMO_SCHEDULE = { downMs: 10_000, everyMs: 30_000, firstOutageMs: 10_000 } as const;

export interface DemoUpstreams {
  primary: Simulator;
  backup: Simulator;
  close(): Promise<void>;
}

/** Two simulated providers: a primary with scheduled outages and a healthy backup. */
export async function startDemoUpstreams(options: { clock?: SimClock } = {}): Promise<DemoUpstreams> {
  const primary = createSimulator({
    ...(options.clock ? { clock: options.clock } : {}),
    models: {
      'gpt-4o': {
        kind: 'outage',
        down_ms: DEMO_SCHEDULE.downMs,
        every_ms: DEMO_SCHEDULE.everyMs,
        offset_ms: DEMO_SCHEDULE.everyMs - DEMO_SCHEDULE.firstOutageMs,
        failure: { kind: 'status', status: 503 },
        then: { kind: 'ok', text: 'Hello from the primary model (simulated gpt-4o). Everything is healthy.', chunk_delay_ms: 15 },
      },
    },
  });
  const backup = createSimulator({
    models: {
      'llama-3.1-70b': { kind: 'ok', text: 'Hello from the backup model (simulated llama-3.1-70b): the primary is down, and Understudy moved your request here.', chunk_delay_ms: 15 },
    },
  });
  await primary.listen();
  await backup.listen();
  return {
    primary,
    backup,
    async close() {
      await Promise.all([primary.close(), backup.close()]);
    },
  };
}

/** The demo's config, as YAML a user could copy: written as text and parsed like any config file. */
export function demoConfigYaml(primaryUrl: string, backupUrl: string, port: number): string {
  return `# Understudy demo: two simulated providers and a route that falls back between them.
server: { host: 127.0.0.1, port: ${port} }
logging: { level: warn }
# A short breaker cooldown so the demo returns to the primary soon after each outage ends.
breaker: { consecutive_failures: 4, cooldown_ms: 4000 }
providers:
  sim-openai: { type: openai, base_url: ${primaryUrl} }
  sim-backup: { type: openai-compatible, base_url: ${backupUrl} }
routes:
  chat:
    ladder:
      - targets: [sim-openai/gpt-4o]
        timeouts: { headers_ms: 2000, first_token_ms: 3000, stall_ms: 3000, total_ms: 20000 }
        retries: 1
      - targets: [sim-backup/llama-3.1-70b]
      - static: "The assistant is busy right now. Please try again in a minute."
    deadline_ms: 30000
`;
}

export function demoConfig(primaryUrl: string, backupUrl: string, port: number): Config {
  return parseConfig(demoConfigYaml(primaryUrl, backupUrl, port), 'demo');
}
