/**
 * The load balancer's I/O: reads every signal one request's ordering needs in one StateStore call
 * before the walk (none at all when no rung needs any), and records what each attempt tells
 * about its target — in flight from dispatch until its watch is disposed, then its time to first
 * output and rate-limit headroom — and which target served a session. The orderings themselves
 * are pure (load-balance.ts).
 *
 * Costs on the hot path: at most one awaited store read per request; every write is
 * fire-and-forget (not awaited; a failed write only makes later orderings less informed, never
 * a request fail). With the memory store a write is a synchronous map update; with Redis each is
 * one command or script, pipelined on the connection in call order (so an attempt's begin lands
 * before its end).
 */
import type { AttemptEnd, BalanceSnapshot, TargetLoad } from '../state/balance-state.js';
import type { StateStore } from '../state/state-store.js';
import type { Clock } from '../time/clock.js';
import { headroomShare, parseHeadroom } from './headroom.js';
import { DEFAULT_STRATEGY, NO_SIGNALS, type Affinity, type BalancedTarget, type RungSignals, type Strategy, type TargetSignals } from './load-balance.js';
import type { Rung, TargetRef } from './route.js';
import type { AttemptWatch } from './watchdog.js';

export type BalanceStore = Pick<StateStore, 'readBalance' | 'beginAttempt' | 'endAttempt' | 'setAffinity'>;

/** Weight of a new time-to-first-output sample in the EWMA. */
export const LATENCY_ALPHA = 0.3;
/** An EWMA not updated for this long is treated as unknown, so `least_latency` measures the target again. */
export const LATENCY_STALE_MS = 5 * 60_000;
/** Session keys longer than this are not used for affinity (no unbounded keys in the store). */
export const MAX_SESSION_KEY_LENGTH = 256;
export const DEFAULT_AFFINITY_TTL_MS = 30 * 60_000;

/** What the balancer needs of a route. */
export interface BalancedPlan<T extends TargetRef> {
  name: string;
  ladder: readonly Rung<T>[];
  /** Undefined: no affinity. */
  affinity?: Affinity | undefined;
}

/** One request's ordering inputs: per rung (by index), and the session's sticky target. */
export interface LadderSignals {
  rungs: readonly (RungSignals | undefined)[];
  /** The target that last served this session (moved to the front of its own rung only). */
  sticky?: string;
}

/** What `served` needs to keep the session's mapping. */
export interface SessionPlan {
  scope: string;
  key: string;
  ttlMs: number;
  current?: { targetId: string; expiresAt: number };
}

export interface BalancePlan {
  signals: LadderSignals;
  session?: SessionPlan;
}

const READS_LOAD: ReadonlySet<Strategy> = new Set<Strategy>(['least_latency', 'least_busy', 'headroom']);

/** The session key of a request: the `x-understudy-session` header, else the body's `user`; undefined when neither (or too long). */
export function sessionKey(header: string | undefined, user: string | undefined): string | undefined {
  const key = header?.trim() || user?.trim() || undefined;
  return key !== undefined && key.length <= MAX_SESSION_KEY_LENGTH ? key : undefined;
}

/** A round-robin rung's cursor in the store. */
export function cursorKey(route: string, rungIndex: number): string {
  return `${route}#${rungIndex}`;
}

export class LoadBalancer {
  constructor(
    private readonly store: BalanceStore,
    private readonly clock: Clock,
  ) {}

  /** Reads (in one store call, or none) what `plan`'s rungs order by, and the session's sticky target. */
  async prepare<T extends TargetRef>(plan: BalancedPlan<T>, session: string | undefined, now: number): Promise<BalancePlan> {
    const loadOf = new Set<string>();
    const cursors: string[] = [];
    let balanced = false;
    plan.ladder.forEach((rung, i) => {
      if (rung.type !== 'targets' || rung.targets.length < 2) return;
      balanced = true;
      const strategy = rung.balance?.strategy ?? DEFAULT_STRATEGY;
      if (strategy === 'round_robin') cursors.push(cursorKey(plan.name, i));
      if (READS_LOAD.has(strategy)) for (const target of rung.targets) loadOf.add(target.id);
    });
    if (!balanced) return { signals: { rungs: [] } };

    const sessionPlan: SessionPlan | undefined = plan.affinity && session !== undefined ? { scope: plan.name, key: session, ttlMs: plan.affinity.ttlMs } : undefined;
    let snapshot: BalanceSnapshot | undefined;
    if (loadOf.size > 0 || cursors.length > 0 || sessionPlan) {
      snapshot = await this.store.readBalance({
        targets: [...loadOf],
        cursors,
        ...(sessionPlan ? { affinity: { scope: sessionPlan.scope, key: sessionPlan.key } } : {}),
        now,
      });
    }
    const rungs = plan.ladder.map((rung, i) => (rung.type === 'targets' && rung.targets.length >= 2 ? rungSignals(rung, snapshot, cursorKey(plan.name, i), now) : undefined));
    const signals: LadderSignals = { rungs };
    if (snapshot?.affinity) signals.sticky = snapshot.affinity.targetId;
    if (sessionPlan && snapshot?.affinity) sessionPlan.current = snapshot.affinity;
    return sessionPlan ? { signals, session: sessionPlan } : { signals };
  }

  /** An attempt was dispatched: in flight until `watch` is disposed, when its time to first output and headroom are recorded. */
  track(targetId: string, watch: AttemptWatch): void {
    quietly(this.store.beginAttempt(targetId));
    watch.onDispose(() => quietly(this.store.endAttempt(targetId, this.attemptEnd(watch))));
  }

  /** `targetId` served the session: map it (when it changed, or the mapping is past half its TTL: a sliding TTL at half a write per request). */
  served(plan: BalancePlan, targetId: string, now: number): void {
    const session = plan.session;
    if (!session) return;
    const current = session.current;
    if (current && current.targetId === targetId && current.expiresAt - now > session.ttlMs / 2) return;
    quietly(this.store.setAffinity(session.scope, session.key, targetId, session.ttlMs, now));
  }

  private attemptEnd(watch: AttemptWatch): AttemptEnd {
    const now = this.clock.now();
    const end: AttemptEnd = { alpha: LATENCY_ALPHA, now };
    if (watch.firstOutputAt !== undefined) end.ttftMs = watch.firstOutputAt - watch.startedAt;
    else if (watch.timedOutWaitingForOutput) end.ttftMs = now - watch.startedAt; // a lower bound: it never answered in time
    const headroom = watch.upstreamHeaders ? parseHeadroom(watch.upstreamHeaders, now) : undefined;
    if (headroom) end.headroom = headroom;
    return end;
  }
}

function rungSignals<T extends TargetRef>(rung: Rung<T> & { type: 'targets' }, snapshot: BalanceSnapshot | undefined, cursor: string, now: number): RungSignals {
  const targets = new Map<string, TargetSignals>();
  for (const target of rung.targets) {
    const config = rung.balance?.targets.get(target.id);
    targets.set(target.id, targetSignals(config, snapshot?.targets[target.id], now));
  }
  return { targets, cursor: snapshot?.cursors[cursor] ?? NO_SIGNALS.cursor };
}

function targetSignals(config: BalancedTarget | undefined, load: TargetLoad | undefined, now: number): TargetSignals {
  const out: TargetSignals = { weight: config?.weight ?? 1, inFlight: load?.inFlight ?? 0 };
  if (config?.price) out.price = config.price.inputPerMTok + config.price.outputPerMTok;
  if (load?.latency && now - load.latency.at <= LATENCY_STALE_MS) out.latencyMs = load.latency.ms;
  const share = headroomShare(load?.headroom, config?.limits, now);
  if (share !== undefined) out.headroom = share;
  return out;
}

function quietly(write: Promise<void>): void {
  write.catch(() => undefined);
}
