/**
 * Exponential backoff with equal jitter: a uniform delay in [base·2^n / 2, base·2^n], capped.
 * `random` is a number in [0, 1) supplied by the caller, so this stays pure.
 */
export function backoffDelay(retryIndex: number, baseMs: number, maxMs: number, random: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retryIndex));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
