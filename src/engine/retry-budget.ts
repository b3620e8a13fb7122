/**
 * The retry budget: retries + hedges ≤ `ratio` × first attempts over a sliding window, so an
 * outage cannot turn into a retry storm (DESIGN invariant 2). Kept per route AND fleet-wide in
 * the StateStore: a retry needs room in both, and takes it from both atomically or from neither,
 * so one noisy route exhausts its own budget without draining the others', while the fleet cap
 * still bounds the sum of every route's floor.
 *
 * Room in a scope: retries in the window < max(minRetriesPerWindow, ⌊ratio × first attempts in
 * the window⌋) — the floor lets a quiet route (or a quiet fleet) still retry.
 *
 * Config keys (`RetryBudgetConfig`, defaults in `DEFAULT_RETRY_BUDGET_CONFIG`):
 *   ratio                0.2     retries + hedges per first attempt over the window (≥ 0)
 *   windowMs             10_000  length of the sliding window
 *   buckets              10      the window slides one bucket (windowMs / buckets) at a time;
 *                                the current bucket counts from its start, so the effective window
 *                                is between windowMs - windowMs/buckets and windowMs
 *   minRetriesPerWindow  10      floor of the allowance, per route and fleet-wide alike
 *
 * What counts, for the engine:
 *   - `recordFirstAttempt(route, now)`: once per request, when its first upstream attempt is
 *     dispatched. Fallback attempts are not first attempts (else a failing ladder would raise
 *     its own allowance).
 *   - `tryAcquireRetry(route, now)` before every retry of the same target (decide() said
 *     `retry_same`) and before launching a hedge. False → do not retry: move on as if decide()
 *     had said `next_target` (record the rule, e.g. `retry_budget_exhausted`); for a hedge, do
 *     not hedge.
 *   - Moving to the next target or the next rung is NOT a retry and takes nothing from the
 *     budget: a fallback goes somewhere else, which is the point of the ladder, and the ladder
 *     is already bounded by its length and the request's deadline.
 *   - `level(route, now)` for metrics and the dashboard.
 *
 * Scopes are `route:<name>` and `fleet` in the store. Bucket indices come from the caller's
 * `now`, so instances sharing Redis should have roughly synchronised clocks (an instance a
 * bucket ahead merely counts into a newer bucket).
 */
import { retryAllowance, type BudgetCounts, type BudgetWindow, type RetryAllowance } from '../state/retry-budget-window.js';
import type { StateStore } from '../state/state-store.js';

export interface RetryBudgetConfig {
  ratio: number;
  windowMs: number;
  buckets: number;
  minRetriesPerWindow: number;
}

export const DEFAULT_RETRY_BUDGET_CONFIG: Readonly<RetryBudgetConfig> = Object.freeze({
  ratio: 0.2,
  windowMs: 10_000,
  buckets: 10,
  minRetriesPerWindow: 10,
});

/** Defaults with `overrides` applied, checked; throws a RangeError naming the first bad key. */
export function retryBudgetConfig(overrides: Partial<RetryBudgetConfig> = {}): RetryBudgetConfig {
  const config = { ...DEFAULT_RETRY_BUDGET_CONFIG, ...overrides };
  if (!(Number.isFinite(config.ratio) && config.ratio >= 0)) throw new RangeError(`retryBudget.ratio must be ≥ 0, got ${config.ratio}`);
  if (!Number.isInteger(config.buckets) || config.buckets < 1) throw new RangeError(`retryBudget.buckets must be a positive integer, got ${config.buckets}`);
  if (!Number.isInteger(config.windowMs) || config.windowMs < config.buckets || config.windowMs % config.buckets !== 0) {
    throw new RangeError(`retryBudget.windowMs must be a whole number of milliseconds divisible by retryBudget.buckets (${config.buckets}), got ${config.windowMs}`);
  }
  if (!Number.isInteger(config.minRetriesPerWindow) || config.minRetriesPerWindow < 0) {
    throw new RangeError(`retryBudget.minRetriesPerWindow must be a whole number ≥ 0, got ${config.minRetriesPerWindow}`);
  }
  return config;
}

/** One scope's budget over the current window. */
export interface BudgetLevel extends BudgetCounts {
  /** Retries the window allows: max(floor, ⌊ratio × firsts⌋). */
  allowed: number;
  /** Retries still available (0 when exhausted). */
  remaining: number;
}

export type RetryBudgetStore = Pick<StateStore, 'addFirstAttempt' | 'tryTakeRetry' | 'readRetryBudget'>;

export const FLEET_SCOPE = 'fleet';

export function routeScope(route: string): string {
  return `route:${route}`;
}

export class RetryBudget {
  private readonly allowance: RetryAllowance;
  private readonly bucketMs: number;

  constructor(
    private readonly store: RetryBudgetStore,
    private readonly config: RetryBudgetConfig = { ...DEFAULT_RETRY_BUDGET_CONFIG },
  ) {
    this.allowance = { ratio: config.ratio, floor: config.minRetriesPerWindow };
    this.bucketMs = config.windowMs / config.buckets;
  }

  /** Counts a request's first upstream attempt, for its route and the fleet. */
  async recordFirstAttempt(route: string, now: number): Promise<void> {
    await this.store.addFirstAttempt([routeScope(route), FLEET_SCOPE], this.window(now));
  }

  /** Takes one retry (or hedge) from the route's and the fleet's budget, from both or neither. */
  async tryAcquireRetry(route: string, now: number): Promise<boolean> {
    return this.store.tryTakeRetry([routeScope(route), FLEET_SCOPE], this.window(now), this.allowance);
  }

  /** The route's and the fleet's budget at `now`. */
  async level(route: string, now: number): Promise<{ route: BudgetLevel; fleet: BudgetLevel }> {
    const window = this.window(now);
    const [routeCounts, fleetCounts] = await Promise.all([this.store.readRetryBudget(routeScope(route), window), this.store.readRetryBudget(FLEET_SCOPE, window)]);
    return { route: this.levelOf(routeCounts), fleet: this.levelOf(fleetCounts) };
  }

  private window(now: number): BudgetWindow {
    return { bucket: Math.floor(now / this.bucketMs), buckets: this.config.buckets };
  }

  private levelOf(counts: BudgetCounts): BudgetLevel {
    const allowed = retryAllowance(counts.firsts, this.allowance);
    return { ...counts, allowed, remaining: Math.max(0, allowed - counts.retries) };
  }
}
