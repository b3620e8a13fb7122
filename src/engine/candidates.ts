import type { Target } from '../providers/target.js';
import type { LiveRung, Rung, StaticRung, TargetRef } from './route.js';

export type Candidate<T extends TargetRef = Target> =
  | { kind: 'live'; rungIndex: number; rung: LiveRung<T>; target: T }
  | { kind: 'static'; rungIndex: number; rung: StaticRung };

/**
 * The ordered plan for one request: every target of every rung, in ladder order. Targets inside
 * a rung are load-balanced by a uniform shuffle (random is injected).
 */
export function expandLadder<T extends TargetRef>(ladder: readonly Rung<T>[], random: () => number): Candidate<T>[] {
  const out: Candidate<T>[] = [];
  ladder.forEach((rung, rungIndex) => {
    if (rung.type === 'static') {
      out.push({ kind: 'static', rungIndex, rung });
      return;
    }
    for (const target of shuffled(rung.targets, random)) out.push({ kind: 'live', rungIndex, rung, target });
  });
  return out;
}

/** Index of the first degradation candidate at or after `from` (or the end). */
export function firstDegradation<T extends TargetRef>(candidates: readonly Candidate<T>[], from: number): number {
  for (let i = from; i < candidates.length; i++) if (candidates[i]?.kind === 'static') return i;
  return candidates.length;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
