import type { RawLiveRung } from './schema.js';

/** One target of a rung as written: `provider/model`, or `{ target, weight }`. */
export interface RungTarget {
  id: string;
  /** As written; undefined when not given (weight 1). */
  weight: number | undefined;
  /** Where it is, relative to the rung (for problems with file and line). */
  path: (string | number)[];
}

/** A rung's targets in order, whichever of the three spellings the file uses (`a/b`, `[a/b, …]`, `[{ target: a/b, weight: 3 }, …]`). */
export function rungTargets(rung: RawLiveRung): RungTarget[] {
  if (typeof rung.targets === 'string') return [{ id: rung.targets, weight: undefined, path: ['targets'] }];
  return rung.targets.map((entry, j) =>
    typeof entry === 'string' ? { id: entry, weight: undefined, path: ['targets', j] } : { id: entry.target, weight: entry.weight, path: ['targets', j] },
  );
}
