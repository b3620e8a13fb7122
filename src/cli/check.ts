import { loadConfigFile } from '../config/load.js';
import type { RungConfig } from '../config/types.js';
import type { Output } from './output.js';

/** `understudy check <file>`: validates a config without starting anything. Returns the exit code. */
export function check(path: string | undefined, out: Output, env: Record<string, string | undefined> = process.env): number {
  if (!path) {
    out.error('usage: understudy check <config.yaml>');
    return 2;
  }
  try {
    const config = loadConfigFile(path, { env });
    const routes = Object.values(config.routes);
    out.info(`${path}: ok — ${Object.keys(config.providers).length} provider(s), ${routes.length} route(s)`);
    for (const route of routes) {
      const rungs = route.ladder.map((r) => (r.type === 'static' ? 'static' : r.type === 'cache' ? 'cache' : liveRung(r))).join('  →  ');
      out.info(`  ${route.name}${route.kind === 'embeddings' ? ' (embeddings)' : ''}: ${rungs}`);
    }
    return 0;
  } catch (error) {
    out.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

/** `a | b ×3 (round_robin)`: targets, weights other than 1, and a strategy other than the default. */
function liveRung(rung: Extract<RungConfig, { type: 'targets' }>): string {
  const targets = rung.targets.map((id) => (rung.weights[id] !== undefined && rung.weights[id] !== 1 ? `${id} ×${rung.weights[id]}` : id)).join(' | ');
  return rung.strategy === 'weighted' ? targets : `${targets} (${rung.strategy})`;
}
