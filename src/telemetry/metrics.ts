import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestRecord } from '../engine/attempt.js';
import type { RetryBudget } from '../engine/retry-budget.js';
import type { RequestLogStats } from '../store/request-log.js';
import type { StateStore } from '../state/state-store.js';
import type { Clock } from '../time/clock.js';

/** What `/metrics` reads at scrape time besides the records it has seen. */
export interface MetricsSources {
  state: Pick<StateStore, 'getBreaker'>;
  retryBudget: RetryBudget;
  clock: Clock;
  /** Every chat target of the configured routes (bounded: the config's, never a request's). */
  targets(): readonly string[];
  /** Every configured route. */
  routes(): readonly string[];
  requestLog?: () => RequestLogStats | undefined;
}

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];
const BREAKER_PHASE = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * Prometheus metrics (prom-client), fed by the one record per request and read from shared state
 * at scrape time. Labels stay bounded: route and target names come from the config (a request's
 * ad-hoc `provider/model` is folded into `target="other"` unless configured), kinds and outcomes
 * are closed vocabularies, and nothing is labelled per key or per request.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly knownTargets: Set<string>;
  private readonly knownRoutes: Set<string>;
  private readonly requests: Counter<'route' | 'status_class' | 'outcome'>;
  private readonly attempts: Counter<'route' | 'target' | 'outcome' | 'kind' | 'reason'>;
  private readonly fallbacks: Counter<'route' | 'reason'>;
  private readonly retries: Counter<'route' | 'result'>;
  private readonly degraded: Counter<'route'>;
  private readonly continuations: Counter<'route'>;
  private readonly hedges: Counter<'route' | 'result'>;
  private readonly duration: Histogram<'route'>;
  private readonly ttft: Histogram<'route' | 'target'>;
  private readonly addedByFallback: Histogram<'route'>;

  constructor(private readonly sources: MetricsSources) {
    this.knownTargets = new Set(sources.targets());
    this.knownRoutes = new Set(sources.routes());
    const registers = [this.registry];
    this.requests = new Counter({ name: 'understudy_requests_total', help: 'Client requests by route, HTTP status class and outcome (served, degraded, failed, rejected, stream_error).', labelNames: ['route', 'status_class', 'outcome'], registers });
    this.attempts = new Counter({ name: 'understudy_attempts_total', help: 'Upstream attempts and skipped candidates by route, target, outcome (ok, failed, skipped, lost), failure kind and reason (primary, retry, fallback, hedge, continuation).', labelNames: ['route', 'target', 'outcome', 'kind', 'reason'], registers });
    this.fallbacks = new Counter({ name: 'understudy_fallbacks_total', help: 'Requests that moved along the ladder, by the failure kind that moved them.', labelNames: ['route', 'reason'], registers });
    this.retries = new Counter({ name: 'understudy_retries_total', help: 'Retries on the same target by result (success: the retry served; failure: it failed too).', labelNames: ['route', 'result'], registers });
    this.degraded = new Counter({ name: 'understudy_degraded_total', help: 'Answers served by a degradation rung (cache or static).', labelNames: ['route'], registers });
    this.continuations = new Counter({ name: 'understudy_continuations_total', help: 'Streams that another target finished after a failure mid-answer.', labelNames: ['route'], registers });
    this.hedges = new Counter({ name: 'understudy_hedges_total', help: 'Hedge attempts by result (won, lost by the first attempt, failed).', labelNames: ['route', 'result'], registers });
    this.duration = new Histogram({ name: 'understudy_request_duration_seconds', help: 'Total request time, to the end of the answer or stream.', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers });
    this.ttft = new Histogram({ name: 'understudy_ttft_seconds', help: 'Time to first output of the attempt that served, from its start.', labelNames: ['route', 'target'], buckets: LATENCY_BUCKETS, registers });
    this.addedByFallback = new Histogram({ name: 'understudy_fallback_added_latency_seconds', help: 'For requests that fell back: time spent before the serving attempt started.', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers });

    const { state, retryBudget, clock } = sources;
    new Gauge({
      name: 'understudy_breaker_state',
      help: 'Circuit breaker phase per target: 0 closed, 1 half-open, 2 open.',
      labelNames: ['target'],
      registers,
      async collect() {
        const reads = await Promise.all([...sources.targets()].map(async (target) => [target, await state.getBreaker(target).catch(() => undefined)] as const));
        for (const [target, breaker] of reads) this.set({ target }, BREAKER_PHASE[breaker?.state.phase ?? 'closed']);
      },
    });
    new Gauge({
      name: 'understudy_retry_budget_remaining',
      help: 'Retries (and hedges) still available in the current window, per route and fleet-wide (route="").',
      labelNames: ['route'],
      registers,
      async collect() {
        const now = clock.now();
        for (const route of sources.routes()) {
          const level = await retryBudget.level(route, now).catch(() => undefined);
          if (!level) continue;
          this.set({ route }, level.route.remaining);
          this.set({ route: '' }, level.fleet.remaining);
        }
      },
    });
    const logStat = (name: string, help: string, pick: (s: RequestLogStats) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const stats = sources.requestLog?.();
          if (stats) this.set(pick(stats));
        },
      });
    };
    logStat('understudy_request_log_written', 'Requests written to the request log since start.', (s) => s.written);
    logStat('understudy_request_log_dropped', 'Requests dropped by the request log (its queue was full) since start.', (s) => s.dropped);
    logStat('understudy_request_log_failed', 'Requests lost by the request log (a write failed) since start.', (s) => s.failed);
    logStat('understudy_request_log_queued', 'Requests waiting to be written to the request log.', (s) => s.queued);
  }

  /** Counts one finished request (called from the gateway's `onRecord`). */
  observe(record: RequestRecord): void {
    const route = this.knownRoutes.has(record.route) ? record.route : 'other';
    this.requests.inc({ route, status_class: `${Math.floor(record.status / 100)}xx`, outcome: outcomeOf(record) });
    if (record.rejected !== undefined) return;
    this.duration.observe({ route }, Math.max(0, record.endedAt - record.startedAt) / 1000);
    if (record.degraded) this.degraded.inc({ route });
    if (record.contributors) this.continuations.inc({ route });
    const reasons = new Set<string>();
    for (const attempt of record.attempts) {
      const target = this.knownTargets.has(attempt.target) ? attempt.target : 'other';
      this.attempts.inc({ route, target, outcome: attempt.outcome, kind: attempt.failure?.kind ?? '', reason: attempt.reason });
      if (attempt.outcome !== 'ok' && attempt.failure) reasons.add(attempt.failure.kind);
      if (attempt.reason === 'retry') this.retries.inc({ route, result: attempt.outcome === 'ok' ? 'success' : 'failure' });
      if (attempt.reason === 'hedge') this.hedges.inc({ route, result: attempt.outcome === 'ok' ? 'won' : attempt.outcome === 'lost' ? 'lost' : 'failed' });
    }
    for (const reason of reasons) this.fallbacks.inc({ route, reason });
    const served = record.attempts.find((a) => a.outcome === 'ok' && a.target === record.servedBy && a.reason !== 'continuation');
    if (served?.firstTokenAt !== undefined) {
      const target = this.knownTargets.has(served.target) ? served.target : 'other';
      this.ttft.observe({ route, target }, Math.max(0, served.firstTokenAt - served.startedAt) / 1000);
    }
    // Moved along the ladder (a failure, or a skip because of one): what that cost before the serving attempt began.
    if (served && reasons.size > 0) this.addedByFallback.observe({ route }, Math.max(0, served.startedAt - record.startedAt) / 1000);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function outcomeOf(record: RequestRecord): string {
  if (record.rejected !== undefined) return 'rejected';
  if (record.streamError !== undefined) return 'stream_error';
  if (record.status >= 400) return 'failed';
  return record.degraded ? 'degraded' : 'served';
}
