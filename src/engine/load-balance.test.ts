import { describe, expect, it } from 'vitest';
import { orderTargets, preferSticky, STRATEGIES, type RungSignals, type Strategy, type TargetSignals } from './load-balance.js';

const a = { id: 'p/a' };
const b = { id: 'p/b' };
const c = { id: 'p/c' };
const abc = [a, b, c];

/** Returns `values` in turn (then repeats the last). */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] as number;
}

/** A small seeded PRNG (mulberry32) for distribution checks. */
function seeded(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function signals(by: Record<string, Partial<TargetSignals>>, cursor = 0): RungSignals {
  return { targets: new Map(Object.entries(by).map(([id, s]) => [id, { weight: 1, inFlight: 0, ...s }])), cursor };
}

const ids = (list: readonly { id: string }[]): string[] => list.map((t) => t.id);

describe('orderTargets', () => {
  it('every strategy returns each target exactly once, whatever the signals', () => {
    const random = seeded(7);
    const s = signals({ 'p/a': { latencyMs: 5, inFlight: 3, price: 2, headroom: 0.1 }, 'p/b': { weight: 4 }, 'p/c': { latencyMs: 1, price: 9, headroom: 0.9 } }, 5);
    for (const strategy of STRATEGIES) {
      for (let n = 0; n < 20; n++) expect(ids(orderTargets(abc, strategy, s, random)).sort()).toEqual(['p/a', 'p/b', 'p/c']);
    }
  });

  it('leaves a single target (or none) alone and draws no random number', () => {
    const random = (): number => {
      throw new Error('no draw expected');
    };
    for (const strategy of STRATEGIES) {
      expect(orderTargets([a], strategy, signals({}), random)).toEqual([a]);
      expect(orderTargets([], strategy, signals({}), random)).toEqual([]);
    }
  });

  describe('weighted', () => {
    it('draws each place in proportion to weight, from the targets left', () => {
      // weights 1, 2, 1 (total 4): a draw of 0.3 × 4 = 1.2 lands on b (1 < 1.2 ≤ 3); then a, c (total 2): 0.9 × 2 = 1.8 lands on c.
      const s = signals({ 'p/b': { weight: 2 } });
      expect(ids(orderTargets(abc, 'weighted', s, draws(0.3, 0.9)))).toEqual(['p/b', 'p/c', 'p/a']);
      expect(ids(orderTargets(abc, 'weighted', s, draws(0, 0)))).toEqual(['p/a', 'p/b', 'p/c']);
      expect(ids(orderTargets(abc, 'weighted', s, draws(0.99, 0.99)))).toEqual(['p/c', 'p/b', 'p/a']);
    });

    it('puts each target first about weight / total of the time', () => {
      const s = signals({ 'p/a': { weight: 3 }, 'p/b': { weight: 1 } });
      const random = seeded(42);
      let aFirst = 0;
      for (let n = 0; n < 4_000; n++) if (orderTargets([a, b], 'weighted', s, random)[0] === a) aFirst++;
      expect(aFirst / 4_000).toBeGreaterThan(0.72);
      expect(aFirst / 4_000).toBeLessThan(0.78);
    });
  });

  describe('round_robin', () => {
    it('rotates by the cursor, one place per turn, ignoring weights and drawing nothing', () => {
      const none = (): number => {
        throw new Error('no draw expected');
      };
      const turns = [0, 1, 2, 3, 4].map((cursor) => ids(orderTargets(abc, 'round_robin', signals({ 'p/a': { weight: 9 } }, cursor), none)));
      expect(turns).toEqual([
        ['p/a', 'p/b', 'p/c'],
        ['p/b', 'p/c', 'p/a'],
        ['p/c', 'p/a', 'p/b'],
        ['p/a', 'p/b', 'p/c'],
        ['p/b', 'p/c', 'p/a'],
      ]);
    });
  });

  describe('least_latency', () => {
    it('puts the lowest EWMA first', () => {
      const s = signals({ 'p/a': { latencyMs: 900 }, 'p/b': { latencyMs: 120 }, 'p/c': { latencyMs: 400 } });
      expect(ids(orderTargets(abc, 'least_latency', s, draws(0)))).toEqual(['p/b', 'p/c', 'p/a']);
    });

    it('tries a target of unknown latency first, so it gets measured', () => {
      const s = signals({ 'p/a': { latencyMs: 50 }, 'p/b': { latencyMs: 10 } });
      expect(ids(orderTargets(abc, 'least_latency', s, draws(0)))).toEqual(['p/c', 'p/b', 'p/a']);
    });

    it('breaks ties by the weighted random order', () => {
      const s = signals({ 'p/a': { latencyMs: 10 }, 'p/b': { latencyMs: 10 }, 'p/c': { latencyMs: 99 } });
      expect(ids(orderTargets(abc, 'least_latency', s, draws(0, 0)))).toEqual(['p/a', 'p/b', 'p/c']);
      expect(ids(orderTargets(abc, 'least_latency', s, draws(0.5, 0)))).toEqual(['p/b', 'p/a', 'p/c']);
    });
  });

  describe('least_busy', () => {
    it('puts the fewest attempts in flight first', () => {
      const s = signals({ 'p/a': { inFlight: 4 }, 'p/b': { inFlight: 0 }, 'p/c': { inFlight: 2 } });
      expect(ids(orderTargets(abc, 'least_busy', s, draws(0)))).toEqual(['p/b', 'p/c', 'p/a']);
    });

    it('counts in flight per unit of weight: a target of weight 4 with 3 in flight is less busy than one of weight 1 with 1', () => {
      const s = signals({ 'p/a': { inFlight: 1 }, 'p/b': { inFlight: 3, weight: 4 } });
      expect(ids(orderTargets([a, b], 'least_busy', s, draws(0)))).toEqual(['p/b', 'p/a']);
    });

    it('breaks ties by the weighted random order', () => {
      const s = signals({ 'p/a': { inFlight: 1 }, 'p/b': { inFlight: 1 } });
      expect(ids(orderTargets([a, b], 'least_busy', s, draws(0)))).toEqual(['p/a', 'p/b']);
      expect(ids(orderTargets([a, b], 'least_busy', s, draws(0.9)))).toEqual(['p/b', 'p/a']);
    });
  });

  describe('cheapest', () => {
    it('puts the lowest input + output price first and unpriced targets last', () => {
      const s = signals({ 'p/a': { price: 12.5 }, 'p/c': { price: 0.75 } });
      expect(ids(orderTargets(abc, 'cheapest', s, draws(0)))).toEqual(['p/c', 'p/a', 'p/b']);
    });
  });

  describe('headroom', () => {
    it('puts the most rate-limit headroom first; an unknown one counts as full', () => {
      const s = signals({ 'p/a': { headroom: 0.2 }, 'p/b': { headroom: 0.7 } });
      expect(ids(orderTargets(abc, 'headroom', s, draws(0.99, 0.99)))).toEqual(['p/c', 'p/b', 'p/a']);
    });

    it('sends an exhausted target last', () => {
      const s = signals({ 'p/a': { headroom: 0 }, 'p/b': { headroom: 0.01 }, 'p/c': { headroom: 0.01 } });
      expect(ids(orderTargets(abc, 'headroom', s, draws(0))).at(-1)).toBe('p/a');
    });
  });

  it('treats a target missing from the signals as weight 1 with no signals', () => {
    const strategies: Strategy[] = ['least_busy', 'headroom'];
    for (const strategy of strategies) expect(ids(orderTargets([a, b], strategy, signals({}), draws(0)))).toEqual(['p/a', 'p/b']);
  });
});

describe('preferSticky (session affinity)', () => {
  it('moves the sticky target to the front and keeps the others in order', () => {
    expect(ids(preferSticky(abc, 'p/c'))).toEqual(['p/c', 'p/a', 'p/b']);
    expect(ids(preferSticky(abc, 'p/a'))).toEqual(['p/a', 'p/b', 'p/c']);
  });

  it('changes nothing when the sticky target is not in this rung, or there is none', () => {
    expect(ids(preferSticky(abc, 'q/z'))).toEqual(['p/a', 'p/b', 'p/c']);
    expect(ids(preferSticky(abc, undefined))).toEqual(['p/a', 'p/b', 'p/c']);
  });
});
