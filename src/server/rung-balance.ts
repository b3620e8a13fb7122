import type { ProviderConfig, RouteConfig, RungConfig } from '../config/types.js';
import type { Affinity, BalancedTarget, RungBalance } from '../engine/load-balance.js';

/** What a live rung's ordering knows of its targets (config only; live signals come from the state store per request). */
export function rungBalance(rung: Extract<RungConfig, { type: 'targets' }>, providers: Readonly<Record<string, ProviderConfig>>): RungBalance {
  const targets = new Map<string, BalancedTarget>();
  for (const id of rung.targets) {
    const slash = id.indexOf('/');
    const provider = providers[id.slice(0, slash)];
    const model = id.slice(slash + 1);
    const entry: BalancedTarget = { weight: rung.weights[id] ?? 1 };
    const price = provider?.modelPrices[model];
    const limits = provider?.modelLimits[model];
    if (price) entry.price = price;
    if (limits) entry.limits = limits;
    targets.set(id, entry);
  }
  return { strategy: rung.strategy, targets };
}

/** The route's session affinity, or undefined when it is off. */
export function routeAffinity(route: RouteConfig): Affinity | undefined {
  return route.affinity.enabled ? { ttlMs: route.affinity.ttlMs } : undefined;
}
