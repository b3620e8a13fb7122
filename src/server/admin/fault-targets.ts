import type { Config } from '../../config/types.js';

const LISTED = 20;

/**
 * What a runtime fault may name: a target of a chat route's ladder, or a model a provider declares
 * under `models:`. Returns the check: undefined for a known target, else why it is not one.
 */
export function faultTargetCheck(config: Config): (id: string) => string | undefined {
  const known = new Set<string>();
  for (const route of Object.values(config.routes)) {
    if (route.kind !== 'chat') continue;
    for (const rung of route.ladder) if (rung.type === 'targets') for (const id of rung.targets) known.add(id);
  }
  for (const provider of Object.values(config.providers)) for (const model of Object.keys(provider.models)) known.add(`${provider.name}/${model}`);
  const sorted = [...known].sort();
  const listed = sorted.length > LISTED ? `${sorted.slice(0, LISTED).join(', ')}, …` : sorted.join(', ');
  return (id) =>
    known.has(id)
      ? undefined
      : `'${id}' is not a target of any chat route or a model a provider declares under models: (known: ${listed || 'none'})`;
}
