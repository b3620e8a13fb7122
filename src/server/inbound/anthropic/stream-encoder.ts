import type { ChatChunk, FinishReason, Usage } from '../../../canonical/chat.js';
import { isContinued, nativeText } from '../../../canonical/native.js';
import type { ClientError } from '../../../engine/all-failed.js';
import { attemptCount } from '../../../engine/attempt.js';
import type { Served } from '../../../engine/engine.js';
import { servedTrailer, type EncoderOptions, type StreamEncoder } from '../inbound-api.js';
import { anthropicErrorType } from './errors.js';
import { stopReasonFor } from './finish.js';
import { anthropicUsage, messageId, textBlock, toolUseBlock } from './response.js';

interface PendingTool {
  id: string;
  name: string;
  args: string;
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * Canonical chunks → Anthropic's named-event stream. Text and thinking stream as they arrive;
 * tool calls are held until their arguments are complete (Anthropic's blocks are sequential and
 * a client must never see half a tool call), then sent as one tool_use block.
 */
export class AnthropicStreamEncoder implements StreamEncoder {
  private started = false;
  private blockIndex = -1;
  private open: 'text' | 'thinking' | undefined;
  private readonly tools = new Map<number, PendingTool>();
  private finish: FinishReason | null = null;
  private usage: Usage | null = null;
  /** Same-format pass-through: the upstream's own events are relayed as they came. */
  private native = false;
  /** The native stream's last block index and its open block's type, followed so a continuation can carry on inside it. */
  private nativeIndex = -1;
  private nativeOpen: string | undefined;

  constructor(private readonly options: EncoderOptions) {}

  chunk(chunk: ChatChunk): string {
    const raw = nativeText(chunk);
    if (raw !== undefined) {
      this.native = true;
      this.followNative(raw);
      return raw;
    }
    let out = '';
    if (this.native) {
      if (!isContinued(chunk)) return '';
      out += this.leaveNative();
    }
    if (!this.started) {
      this.started = true;
      out += event('message_start', {
        message: {
          id: messageId(chunk.id),
          type: 'message',
          role: 'assistant',
          model: chunk.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          stop_details: null,
          container: null,
          usage: anthropicUsage(null),
        },
      });
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices.find((c) => c.index === 0);
    if (!choice) return out;
    const d = choice.delta;
    if (this.options.includeReasoning && typeof d.reasoning_content === 'string' && d.reasoning_content) {
      out += this.openBlock('thinking', { type: 'thinking', thinking: '', signature: '' });
      out += event('content_block_delta', { index: this.blockIndex, delta: { type: 'thinking_delta', thinking: d.reasoning_content } });
    }
    if (typeof d.content === 'string' && d.content) {
      out += this.openBlock('text', textBlock(''));
      out += event('content_block_delta', { index: this.blockIndex, delta: { type: 'text_delta', text: d.content } });
    }
    for (const call of d.tool_calls ?? []) {
      const index = call.index ?? this.tools.size;
      const pending = this.tools.get(index) ?? { id: '', name: '', args: '' };
      if (call.id) pending.id = call.id;
      if (call.function?.name) pending.name += call.function.name;
      if (call.function?.arguments) pending.args += call.function.arguments;
      this.tools.set(index, pending);
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  keepalive(): string {
    return event('ping', {});
  }

  /** Follows the native stream's block starts and stops (rare events: the many deltas are passed over by one substring test). */
  private followNative(raw: string): void {
    if (!raw.includes('content_block_st')) return;
    for (const line of raw.split('\n')) {
      if (!line.startsWith('data:')) continue;
      try {
        const data = JSON.parse(line.slice(5)) as { type?: unknown; index?: unknown; content_block?: { type?: unknown } };
        if (data.type === 'content_block_start' && typeof data.index === 'number') {
          this.nativeIndex = data.index;
          this.nativeOpen = typeof data.content_block?.type === 'string' ? data.content_block.type : 'unknown';
        } else if (data.type === 'content_block_stop') {
          this.nativeOpen = undefined;
        }
      } catch {
        // Not JSON: nothing to follow.
      }
    }
  }

  /**
   * Another target continues the native stream: from here on this encoder writes the events,
   * carrying on in the open text block (or closing whatever else was open), and ends the message itself.
   */
  private leaveNative(): string {
    this.native = false;
    this.started = true;
    this.blockIndex = this.nativeIndex;
    if (this.nativeOpen === 'text') {
      this.open = 'text';
      return '';
    }
    const close = this.nativeOpen !== undefined ? event('content_block_stop', { index: this.blockIndex }) : '';
    this.nativeOpen = undefined;
    return close;
  }

  error(error: ClientError): string {
    return (this.native ? '' : this.closeBlock()) + event('error', { error: { type: anthropicErrorType(error.status), message: error.message } });
  }

  end(served: Served): string {
    if (this.native) return servedTrailer(served, attemptCount(served.attempts));
    let out = this.closeBlock();
    for (const tool of [...this.tools.entries()].sort(([a], [b]) => a - b).map(([, t]) => t)) {
      this.blockIndex++;
      out += event('content_block_start', { index: this.blockIndex, content_block: toolUseBlock(tool.id, tool.name, {}) });
      out += event('content_block_delta', { index: this.blockIndex, delta: { type: 'input_json_delta', partial_json: tool.args } });
      out += event('content_block_stop', { index: this.blockIndex });
    }
    // Cumulative usage, in the shape of a message_delta (no cache_creation, inference_geo or service_tier there).
    const { cache_creation: _c, inference_geo: _g, service_tier: _t, ...usage } = anthropicUsage(this.usage);
    out += event('message_delta', { delta: { stop_reason: stopReasonFor(this.finish), stop_sequence: null, stop_details: null, container: null }, usage });
    out += servedTrailer(served, attemptCount(served.attempts));
    out += event('message_stop', {});
    return out;
  }

  private openBlock(kind: 'text' | 'thinking', contentBlock: Record<string, unknown>): string {
    if (this.open === kind) return '';
    const closed = this.closeBlock();
    this.blockIndex++;
    this.open = kind;
    return closed + event('content_block_start', { index: this.blockIndex, content_block: contentBlock });
  }

  private closeBlock(): string {
    if (this.open === undefined) return '';
    this.open = undefined;
    return event('content_block_stop', { index: this.blockIndex });
  }
}
