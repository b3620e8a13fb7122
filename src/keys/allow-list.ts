import type { KeyRecord } from './key-record.js';

/**
 * A key's allow-lists. Routes: route names, or `*`. Targets: `provider/model`, `provider/*`
 * (every model of that provider), or `*`. Exact matches only otherwise: `openai/gpt-4o` does not
 * allow `openai/gpt-4o-mini`.
 */
export const ANY = '*';

export function routeAllowed(key: Pick<KeyRecord, 'routes'>, route: string): boolean {
  return key.routes.some((entry) => entry === ANY || entry === route);
}

export function targetAllowed(key: Pick<KeyRecord, 'targets'>, targetId: string): boolean {
  return key.targets.some((entry) => matchesTarget(entry, targetId));
}

export function matchesTarget(entry: string, targetId: string): boolean {
  if (entry === ANY || entry === targetId) return true;
  if (!entry.endsWith('/*')) return false;
  const provider = entry.slice(0, -1); // keeps the slash: 'openai/'
  return targetId.startsWith(provider) && targetId.length > provider.length;
}

/** Why a target allow-list entry is malformed, or undefined. `providers`: the configured provider names. */
export function targetEntryProblem(entry: string, providers: readonly string[]): string | undefined {
  if (entry === ANY) return undefined;
  const slash = entry.indexOf('/');
  if (slash <= 0 || slash === entry.length - 1 || /\s/.test(entry)) return `'${entry}' is not provider/model, provider/* or *`;
  const provider = entry.slice(0, slash);
  if (!providers.includes(provider)) return `'${entry}' names an unknown provider '${provider}' (expected one of: ${providers.join(', ') || 'none'})`;
  return undefined;
}

/** Why a route allow-list entry is malformed, or undefined. `routes`: the configured route names. */
export function routeEntryProblem(entry: string, routes: readonly string[]): string | undefined {
  if (entry === ANY || routes.includes(entry)) return undefined;
  return `'${entry}' is not a configured route (expected one of: ${routes.join(', ') || 'none'}, or *)`;
}
