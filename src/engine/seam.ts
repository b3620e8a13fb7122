import type { ChatChunk } from '../canonical/chat.js';
import { chunkFinishes, chunkHasOutput } from '../canonical/chunks.js';
import type { ContinuationMode } from './continuation.js';

/** How far back into the partial answer the seam looks for a passage the continuation repeats. */
const LOOKBACK_CHARS = 2_000;

/**
 * How many leading characters of `continuation` repeat the end of the partial answer (`tail`), to
 * be removed at the seam. Pure.
 *
 * - After a prefill the target continues the exact text, so repeated text there is legitimate:
 *   only whitespace is removed, when the prefill's own trailing whitespace had to be cut off
 *   (`trimmed`) and the client already has it.
 * - After a continue turn a model often restarts a little earlier. The longest overlap of at least
 *   `minOverlap` characters is removed (shorter repeats may be legitimate, and are kept), or, when
 *   the partial answer stops inside a word and the continuation restarts that word, the fragment
 *   (a word glued to its own beginning is never intended text).
 */
export function seamOverlap(tail: string, continuation: string, mode: ContinuationMode, trimmed: string, minOverlap: number): number {
  if (mode === 'prefill') return trimmed.length > 0 ? leadingWhitespace(continuation) : 0;
  for (let k = Math.min(tail.length, continuation.length); k >= Math.max(1, minOverlap); k--) {
    if (tail.endsWith(continuation.slice(0, k))) return k;
  }
  const fragment = /[\p{L}\p{N}_]+$/u.exec(tail)?.[0];
  if (fragment && continuation.startsWith(fragment)) return fragment.length;
  if (/\s$/u.test(tail)) return leadingWhitespace(continuation);
  return 0;
}

function leadingWhitespace(text: string): number {
  return /^\s*/u.exec(text)?.[0].length ?? 0;
}

/**
 * Joins a continuation onto the answer the client already has. Its first chunks are held until
 * the overlap can be decided — as soon as the held text stops repeating the end of the partial
 * answer (at once for a plain continuation, one character after a prefill), or the stream ends —
 * then released with the overlap removed; everything after passes straight through.
 */
export class SeamJoiner {
  private readonly tail: string;
  private held: ChatChunk[] = [];
  private text = '';
  private joined = false;

  constructor(
    partial: string,
    private readonly mode: ContinuationMode,
    private readonly trimmed: string,
    private readonly minOverlap: number,
    /** Told how many characters the seam removed, once it is decided. */
    private readonly onJoined?: (overlapChars: number) => void,
  ) {
    this.tail = partial.slice(-LOOKBACK_CHARS);
  }

  /** Whether the seam has been decided (every later chunk passes through untouched). */
  get done(): boolean {
    return this.joined;
  }

  /** The chunks to send now for `chunk` (none while the seam is undecided). */
  push(chunk: ChatChunk): ChatChunk[] {
    if (this.joined) return [chunk];
    this.held.push(chunk);
    this.text += contentOf(chunk);
    return this.decidable() || chunkFinishes(chunk) ? this.release() : [];
  }

  /** The continuation ended: whatever is still held, with the overlap removed. */
  end(): ChatChunk[] {
    return this.joined ? [] : this.release();
  }

  private decidable(): boolean {
    if (this.text.length === 0) return false;
    if (this.mode === 'prefill') return true;
    // Once the held text is no longer found in the tail, no longer overlap is possible.
    return this.text.length > this.tail.length || !this.tail.includes(this.text);
  }

  private release(): ChatChunk[] {
    this.joined = true;
    let cut = seamOverlap(this.tail, this.text, this.mode, this.trimmed, this.minOverlap);
    this.onJoined?.(cut);
    const out: ChatChunk[] = [];
    for (const chunk of this.held) {
      const choice = chunk.choices[0];
      const content = choice?.delta.content;
      if (cut === 0 || !choice || typeof content !== 'string' || content.length === 0) {
        out.push(chunk);
        continue;
      }
      const n = Math.min(cut, content.length);
      cut -= n;
      const trimmed: ChatChunk = { ...chunk, choices: [{ ...choice, delta: { ...choice.delta, content: content.slice(n) } }, ...chunk.choices.slice(1)] };
      if (chunkHasOutput(trimmed) || chunkFinishes(trimmed) || trimmed.usage) out.push(trimmed);
    }
    this.held = [];
    this.text = '';
    return out;
  }
}

function contentOf(chunk: ChatChunk): string {
  const content = chunk.choices[0]?.delta.content;
  return typeof content === 'string' ? content : '';
}
