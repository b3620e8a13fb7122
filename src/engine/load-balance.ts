/**
 * Load balancing inside a rung: the order in which one request tries a rung's targets. Pure: the
 * signals are read once per request before the walk (balancer.ts) and randomness is injected, so
 * every strategy is deterministic under test. Ordering never skips a target — the walk's own
 * checks (cooldowns, open circuits, capabilities) still decide who may be called.
 *
 *   weighted       random order, each place drawn in proportion to weight (default)
 *   round_robin    rotation by a shared cursor, one turn per request (weights ignored)
 *   least_latency  lowest EWMA of time to first output first; an unknown one first of all (so it is measured)
 *   least_busy     fewest attempts in flight per unit of weight first
 *   cheapest       lowest input + output price per 1M tokens first; unpriced targets last
 *   headroom       most rate-limit headroom left (0..1) first; an unknown one counts as full
 *
 * Every strategy but round_robin breaks ties by the weighted random order.
 */

export const STRATEGIES = ['weighted', 'round_robin', 'least_latency', 'least_busy', 'cheapest', 'headroom'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const DEFAULT_STRATEGY: Strategy = 'weighted';

/** A model's price, per 1M tokens (in whatever one currency the config uses throughout). */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** A model's configured rate limits (the denominators of headroom when headers give no limit). */
export interface RateLimits {
  rpm?: number;
  tpm?: number;
}

/** What config says of one target in one rung. */
export interface BalancedTarget {
  /** > 0; default 1. */
  weight: number;
  price?: Price;
  limits?: RateLimits;
}

/** How a live rung orders its targets. Absent on a rung: weighted, every weight 1. */
export interface RungBalance {
  strategy: Strategy;
  /** By target id; a target missing here has weight 1, no price and no limits. */
  targets: ReadonlyMap<string, BalancedTarget>;
}

/** Session affinity of a route: a session's requests try first the target that last served it, inside that target's rung. */
export interface Affinity {
  ttlMs: number;
}

/** What the ordering knows of one target: config and live signals, normalised. */
export interface TargetSignals {
  weight: number;
  /** Input + output price per 1M tokens; undefined when not configured. */
  price?: number;
  /** EWMA of time to first output (ms); undefined when unknown or stale. */
  latencyMs?: number;
  /** Attempts in flight now (fleet-wide with a shared store). */
  inFlight: number;
  /** Share left of the tightest rate-limit window, 0..1; undefined when unknown. */
  headroom?: number;
}

export interface RungSignals {
  /** By target id; a target missing here has weight 1 and no signals. */
  targets: ReadonlyMap<string, TargetSignals>;
  /** round_robin: this request's turn of the rung's cursor. */
  cursor: number;
}

export const NO_SIGNALS: RungSignals = { targets: new Map(), cursor: 0 };

const UNKNOWN: TargetSignals = { weight: 1, inFlight: 0 };

/** The order in which one request tries `targets` under `strategy`. Never drops or repeats a target. */
export function orderTargets<T extends { readonly id: string }>(targets: readonly T[], strategy: Strategy, signals: RungSignals, random: () => number): T[] {
  if (targets.length < 2) return [...targets];
  const of = (target: T): TargetSignals => signals.targets.get(target.id) ?? UNKNOWN;
  switch (strategy) {
    case 'weighted':
      return weightedOrder(targets, of, random);
    case 'round_robin':
      return rotated(targets, signals.cursor);
    case 'least_latency':
      return sortedBy(weightedOrder(targets, of, random), (t) => of(t).latencyMs ?? -Infinity);
    case 'least_busy':
      return sortedBy(weightedOrder(targets, of, random), (t) => of(t).inFlight / of(t).weight);
    case 'cheapest':
      return sortedBy(weightedOrder(targets, of, random), (t) => of(t).price ?? Infinity);
    case 'headroom':
      return sortedBy(weightedOrder(targets, of, random), (t) => -(of(t).headroom ?? 1));
    default:
      return unknownStrategy(strategy);
  }
}

/** `ordered` with `stickyId` moved to the front, when it is there (session affinity: the rest keep their order). */
export function preferSticky<T extends { readonly id: string }>(ordered: readonly T[], stickyId: string | undefined): T[] {
  const at = stickyId === undefined ? -1 : ordered.findIndex((t) => t.id === stickyId);
  if (at <= 0) return [...ordered];
  return [ordered[at] as T, ...ordered.slice(0, at), ...ordered.slice(at + 1)];
}

/** Weighted random order without replacement: each place is drawn from the targets left, in proportion to weight. */
function weightedOrder<T>(targets: readonly T[], of: (t: T) => TargetSignals, random: () => number): T[] {
  const pool = [...targets];
  const out: T[] = [];
  let total = pool.reduce((sum, t) => sum + of(t).weight, 0);
  while (pool.length > 1) {
    let r = random() * total;
    let k = 0;
    for (; k < pool.length - 1; k++) {
      r -= of(pool[k] as T).weight;
      if (r <= 0) break;
    }
    const [picked] = pool.splice(k, 1) as [T];
    out.push(picked);
    total -= of(picked).weight;
  }
  out.push(pool[0] as T);
  return out;
}

function rotated<T>(targets: readonly T[], cursor: number): T[] {
  const n = targets.length;
  const start = ((Math.trunc(cursor) % n) + n) % n;
  return [...targets.slice(start), ...targets.slice(0, start)];
}

/** A stable sort by `key`, ascending (so earlier places of `items` break ties); ±Infinity allowed. */
function sortedBy<T>(items: T[], key: (t: T) => number): T[] {
  const keyed = items.map((item, i) => ({ item, i, k: key(item) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i));
  return keyed.map((e) => e.item);
}

function unknownStrategy(strategy: never): never {
  throw new Error(`unknown load-balancing strategy: ${String(strategy)}`);
}
