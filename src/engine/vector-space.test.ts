import { describe, expect, it } from 'vitest';
import { equivalenceProblems, sameVectorSpace, vectorSpaceOf } from './vector-space.js';

describe('the vector-space rule', () => {
  const groups = [['text-embedding-3-small', 'embed-small-prod', 'embed-small-eu']];

  it.each([
    ['text-embedding-3-small', 'text-embedding-3-small', [], true],
    ['text-embedding-004', 'models/text-embedding-004', [], true],
    ['text-embedding-3-small', 'text-embedding-3-large', [], false],
    ['text-embedding-3-small', 'embed-small-prod', [], false],
    ['text-embedding-3-small', 'embed-small-prod', groups, true],
    ['embed-small-eu', 'embed-small-prod', groups, true],
    ['embed-small-prod', 'text-embedding-3-large', groups, false],
  ] as [string, string, string[][], boolean][])('%s ~ %s (groups %j) → %s', (a, b, g, same) => {
    expect(sameVectorSpace(a, b, g)).toBe(same);
    expect(sameVectorSpace(b, a, g)).toBe(same);
  });

  it('names a group by its first member', () => {
    expect(vectorSpaceOf('embed-small-eu', groups)).toBe('group:text-embedding-3-small');
    expect(vectorSpaceOf('other', groups)).toBe('model:other');
  });

  it('finds a model declared twice', () => {
    expect(equivalenceProblems([['a', 'b'], ['c', 'models/a'], ['d', 'd']])).toEqual([
      { group: 1, member: 1, message: "'models/a' is already in group 0; put every name of one model in one group" },
      { group: 2, member: 1, message: "'d' appears twice in this group" },
    ]);
  });
});
