import type { ChatChunk } from '../canonical/chat.js';
import { chunkFinishes, chunkHasOutput } from '../canonical/chunks.js';
import type { UpstreamEvent } from '../providers/target.js';
import type { AttemptWatch } from './watchdog.js';

/**
 * Holds streamed tool-call deltas until every call started so far has complete JSON arguments,
 * then releases them in order. A stream cut in the middle of a tool call therefore never leaves
 * the client with half a call: before the commit point the attempt fails invisibly and the next
 * target answers; after it (text was already sent) the stream ends with an error event, and the
 * half call was never sent. Chunks without tool-call deltas pass straight through unless a call
 * is being held (order is kept).
 */
export class ToolCallGate {
  private held: ChatChunk[] = [];
  /** Arguments so far, per `choice:call index`. */
  private readonly args = new Map<string, string>();

  /** The chunks to send now for `chunk`. */
  push(chunk: ChatChunk): ChatChunk[] {
    let calls = false;
    for (const choice of chunk.choices) {
      for (const call of choice.delta.tool_calls ?? []) {
        calls = true;
        const key = `${choice.index}:${call.index}`;
        this.args.set(key, (this.args.get(key) ?? '') + (call.function?.arguments ?? ''));
      }
    }
    if (!calls && this.held.length === 0) return [chunk];
    this.held.push(chunk);
    if (chunkFinishes(chunk) || this.complete()) return this.release();
    return [];
  }

  /** The upstream ended normally: release what is held (arguments an upstream finished with are not ours to hide). */
  end(): ChatChunk[] {
    return this.held.length > 0 ? this.release() : [];
  }

  private complete(): boolean {
    for (const args of this.args.values()) if (!isCompleteJson(args)) return false;
    return true;
  }

  private release(): ChatChunk[] {
    const out = this.held;
    this.held = [];
    return out;
  }
}

/** Whether `text` is one complete JSON value (cheap test first: a value ends in `}` or `]` here). */
function isCompleteJson(text: string): boolean {
  const end = text.trimEnd().at(-1);
  if (end !== '}' && end !== ']') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The upstream's events with tool-call deltas held by a `ToolCallGate`. Held chunks that carry
 * output still count as output for the stall watchdog (the upstream is producing).
 */
export async function* gateToolCalls(source: AsyncIterator<UpstreamEvent>, watch: AttemptWatch): AsyncGenerator<UpstreamEvent> {
  const gate = new ToolCallGate();
  try {
    for (;;) {
      const next = await source.next();
      if (next.done) break;
      const event = next.value;
      if (event.type !== 'chunk') {
        yield event;
        continue;
      }
      const out = gate.push(event.chunk);
      if (out.length === 0) {
        if (chunkHasOutput(event.chunk)) watch.markOutput();
        continue;
      }
      for (const chunk of out) yield { type: 'chunk', chunk };
    }
    for (const chunk of gate.end()) yield { type: 'chunk', chunk };
  } finally {
    await source.return?.();
  }
}
