import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../canonical/chat.js';
import { SeamJoiner, seamOverlap } from './seam.js';

function chunk(content: string, finish: 'stop' | null = null): ChatChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] };
}

function join(partial: string, pieces: string[], mode: 'prefill' | 'continue_turn', trimmed = '', min = 12): string {
  const seam = new SeamJoiner(partial, mode, trimmed, min);
  let out = '';
  for (const [i, piece] of pieces.entries()) {
    for (const c of seam.push(chunk(piece, i === pieces.length - 1 ? 'stop' : null))) out += c.choices[0]?.delta.content ?? '';
  }
  for (const c of seam.end()) out += c.choices[0]?.delta.content ?? '';
  return partial + out;
}

describe('seamOverlap', () => {
  it('removes the longest repeat of at least the minimum length after a continue turn', () => {
    expect(seamOverlap('The quick brown fox jumps', 'brown fox jumps over the dog', 'continue_turn', '', 12)).toBe('brown fox jumps'.length);
  });

  it('keeps a short repeat: it may be legitimate text', () => {
    expect(seamOverlap('I said no', ' no, never', 'continue_turn', '', 12)).toBe(0);
    expect(seamOverlap('Tora! Tora!', ' Tora!', 'continue_turn', '', 12)).toBe(0);
  });

  it('removes a restarted word when the partial answer stopped inside it', () => {
    expect(seamOverlap('The fox jum', 'jumps over', 'continue_turn', '', 12)).toBe(3);
    // A model that continues exactly is left alone.
    expect(seamOverlap('The fox jum', 'ps over', 'continue_turn', '', 12)).toBe(0);
  });

  it('after a prefill, removes only the whitespace the client already has', () => {
    expect(seamOverlap('Hello', ' world', 'prefill', ' ', 12)).toBe(1);
    expect(seamOverlap('Hello', ' world', 'prefill', '', 12)).toBe(0);
    // Exact continuations may legitimately repeat: "ha" then "ha ha".
    expect(seamOverlap('The crowd laughed: ha', ' ha ha', 'prefill', '', 1)).toBe(0);
  });

  it('after a continue turn, drops leading whitespace when the partial answer ended in whitespace', () => {
    expect(seamOverlap('One two ', '  three', 'continue_turn', '', 12)).toBe(2);
  });
});

describe('SeamJoiner', () => {
  const full = 'Tides rise and fall twice a day because the Moon pulls the oceans toward it.';

  it('joins a restart spread over many small chunks into the exact text', () => {
    const partial = full.slice(0, 40);
    const restart = full.slice(full.lastIndexOf(' ', 30) + 1);
    const pieces = restart.match(/.{1,3}/gs) ?? [];
    expect(join(partial, pieces, 'continue_turn')).toBe(full);
  });

  it('passes an exact continuation through as soon as it stops repeating the partial answer', () => {
    const seam = new SeamJoiner('Tides rise', 'continue_turn', '', 12);
    expect(seam.push(chunk(' and'))).toHaveLength(1);
    expect(seam.done).toBe(true);
  });

  it('holds while the continuation repeats the tail, and releases at the end of the stream', () => {
    const seam = new SeamJoiner('alpha beta gamma delta', 'continue_turn', '', 12);
    expect(seam.push(chunk('beta gamma'))).toEqual([]);
    const out = seam.end();
    expect(out.map((c) => c.choices[0]?.delta.content).join('')).toBe('beta gamma'); // 10 < 12: kept
  });

  it('reports how much it removed', () => {
    let removed = -1;
    const seam = new SeamJoiner('one two three four five', 'continue_turn', '', 12, (n) => (removed = n));
    seam.push(chunk('three four five six', 'stop'));
    expect(removed).toBe('three four five'.length);
  });

  it('keeps chunks that carry a finish reason or usage even when their text was all overlap', () => {
    const seam = new SeamJoiner('one two three four five', 'continue_turn', '', 12);
    const out = seam.push(chunk('two three four five', 'stop'));
    expect(out).toHaveLength(1);
    expect(out[0]?.choices[0]).toMatchObject({ delta: { content: '' }, finish_reason: 'stop' });
  });
});
