import type { Target } from '../providers/target.js';
import type { LadderSignals } from './balancer.js';
import { DEFAULT_STRATEGY, NO_SIGNALS, orderTargets, preferSticky } from './load-balance.js';
import type { CacheRung, LiveRung, Rung, StaticRung, TargetRef } from './route.js';

export type Candidate<T extends TargetRef = Target> =
  | { kind: 'live'; rungIndex: number; rung: LiveRung<T>; target: T }
  | { kind: 'static'; rungIndex: number; rung: StaticRung }
  | { kind: 'cache'; rungIndex: number; rung: CacheRung };

/**
 * The ordered plan for one request: every target of every rung, in ladder order. Inside a rung the
 * targets are ordered by the rung's strategy over `signals` (load-balance.ts; random is injected),
 * then the session's sticky target, when it is in that rung, moves to the front: affinity never
 * moves a target across rungs.
 */
export function expandLadder<T extends TargetRef>(ladder: readonly Rung<T>[], random: () => number, signals: LadderSignals): Candidate<T>[] {
  const out: Candidate<T>[] = [];
  ladder.forEach((rung, rungIndex) => {
    if (rung.type === 'static') {
      out.push({ kind: 'static', rungIndex, rung });
      return;
    }
    if (rung.type === 'cache') {
      out.push({ kind: 'cache', rungIndex, rung });
      return;
    }
    const ordered = orderTargets(rung.targets, rung.balance?.strategy ?? DEFAULT_STRATEGY, signals.rungs[rungIndex] ?? NO_SIGNALS, random);
    for (const target of preferSticky(ordered, signals.sticky)) out.push({ kind: 'live', rungIndex, rung, target });
  });
  return out;
}

/** Index of the first degradation candidate at or after `from` (or the end). */
export function firstDegradation<T extends TargetRef>(candidates: readonly Candidate<T>[], from: number): number {
  for (let i = from; i < candidates.length; i++) if (candidates[i]?.kind !== 'live') return i;
  return candidates.length;
}
