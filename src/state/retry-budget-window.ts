/**
 * The retry budget as the StateStore keeps it: per scope (a route, or the whole fleet), counts of
 * first attempts and of retries in time buckets. The window is the current bucket and the
 * `buckets - 1` before it; older buckets no longer count and may be dropped. Bucket indices are
 * computed by the caller (`floor(now / bucketMs)`), so the store never reads a clock.
 *
 * `retryAllowance` is the one rule a store applies when it takes a retry atomically; a Redis
 * implementation mirrors it in its Lua script, and the shared contract tests pin it down.
 */

/** The window to count over: bucket `bucket` and the `buckets - 1` before it. */
export interface BudgetWindow {
  bucket: number;
  buckets: number;
}

/** How many retries a scope may make in a window: `max(floor, ⌊ratio × firsts⌋)`. */
export interface RetryAllowance {
  ratio: number;
  floor: number;
}

/** One scope's counts over a window. */
export interface BudgetCounts {
  firsts: number;
  retries: number;
}

/** Retries allowed in a window that saw `firsts` first attempts. */
export function retryAllowance(firsts: number, allowance: RetryAllowance): number {
  // The epsilon keeps 0.29 × 100 at 29 rather than 28.999….
  return Math.max(allowance.floor, Math.floor(allowance.ratio * firsts + 1e-9));
}

/** Whether one more retry fits in a scope with `counts`. */
export function hasRetryRoom(counts: BudgetCounts, allowance: RetryAllowance): boolean {
  return counts.retries < retryAllowance(counts.firsts, allowance);
}
