import { asArray, asRecord, asString } from './dialects/read.js';

/**
 * A simulated model that knows how to continue its own answer, so the gateway's mid-stream
 * continuation can be tested end to end. A request continues an answer when it ends with an
 * assistant turn (assistant prefill: the model writes on from the exact text) or with an assistant
 * turn followed by a user turn asking to continue (the model restarts a few words early, as real
 * models often do — the gateway's seam must remove the repeat).
 */
export interface Continuing {
  /** The answer text the request hands over. */
  said: string;
  prefill: boolean;
}

/** One conversation turn's role and plain text, whatever the format. */
export interface Turn {
  role: 'user' | 'assistant' | 'other';
  text: string;
}

/** Words a continue-turn answer restarts before the cut. */
const RESTART_WORDS = 3;

export function continuingFrom(turns: readonly Turn[]): Continuing | undefined {
  const last = turns.at(-1);
  if (last?.role === 'assistant' && last.text.length > 0) return { said: last.text, prefill: true };
  const before = turns.at(-2);
  if (last?.role === 'user' && /\bcontinue\b/i.test(last.text) && before?.role === 'assistant' && before.text.length > 0) {
    return { said: before.text, prefill: false };
  }
  return undefined;
}

/** The part of `text` (the full answer the scenario would give) that continues what was said. */
export function continuedText(text: string, continuing: Continuing | undefined): string {
  if (!continuing || !text.startsWith(continuing.said)) return text;
  const said = continuing.said;
  if (continuing.prefill) return text.slice(said.length);
  const starts = [...said.matchAll(/\S+/gu)].map((m) => m.index);
  const restart = starts.length >= RESTART_WORDS ? (starts[starts.length - RESTART_WORDS] ?? 0) : 0;
  return text.slice(restart);
}

/** Plain text of a message's content: a string, or the text parts/blocks of an array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .map((part) => asString(asRecord(part)['text']) ?? '')
    .join('');
}

/** OpenAI and Anthropic `messages`. */
export function messageTurns(messages: unknown): Turn[] {
  return asArray(messages).map((m) => {
    const r = asRecord(m);
    const role = r['role'] === 'user' ? 'user' : r['role'] === 'assistant' ? 'assistant' : 'other';
    return { role, text: contentText(r['content']) };
  });
}

/** Gemini `contents` (role `model` is the assistant). */
export function geminiTurns(contents: unknown): Turn[] {
  return asArray(contents).map((c) => {
    const r = asRecord(c);
    const role = r['role'] === 'model' ? 'assistant' : r['role'] === 'user' || r['role'] === undefined ? 'user' : 'other';
    return { role, text: contentText(r['parts']) };
  });
}
