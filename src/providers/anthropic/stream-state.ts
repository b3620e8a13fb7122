import type { ChatChunk, ChunkDelta, FinishReason } from '../../canonical/chat.js';
import { chunkHasOutput } from '../../canonical/chunks.js';
import { UpstreamFailure } from '../../canonical/failure.js';
import type { UpstreamEvent } from '../target.js';
import type { UnknownEvent } from './decode.js';
import { classifyStreamError } from './errors.js';
import { finishReason, type ResponseContext } from './response.js';
import { THINKING_BLOCKS_FIELD } from './thinking-blocks.js';
import { mergeUsage, toUsage } from './usage.js';
import type { ContentBlock, ContentBlockDelta, JsonValue, MessageDeltaUsage, StopReason, StreamEvent } from './wire.js';

type Block =
  | { kind: 'text' }
  | { kind: 'thinking'; thinking: string; signature: string }
  | { kind: 'redacted'; data: string }
  /** A client tool call: `toolIndex` counts tool calls, not content blocks. */
  | { kind: 'tool'; toolIndex: number; args: string; input: JsonValue }
  /** The answer tool of emulated JSON output: its input streams as text. */
  | { kind: 'answer'; json: string; input: JsonValue }
  /** A block we do not translate (server tools, their results, compaction, …). */
  | { kind: 'skipped' };

/**
 * The state machine from Anthropic stream events to canonical chunks, one event at a time. Pure.
 *
 * `message_start` gives the role chunk; text, thinking and tool blocks give content,
 * `reasoning_content` and `tool_calls` deltas; `message_delta` carries the stop reason and the
 * cumulative usage, both emitted at `message_stop` (a finish chunk, then a usage chunk with
 * `choices: []`). Holding the finish until `message_stop` means a stream cut after
 * `message_delta` is still a cut, never a success.
 */
export class AnthropicStreamState {
  private started = false;
  private id = '';
  private model = '';
  private readonly blocks = new Map<number, Block>();
  private toolCount = 0;
  private usage: MessageDeltaUsage = {};
  private stop: StopReason | null = null;
  private refusal: string | null = null;
  /** Some model output has been emitted (so a failure now is a cut). */
  outputSeen = false;
  /** `message_stop` was seen: the answer is complete. */
  done = false;

  constructor(
    private readonly context: ResponseContext,
    private readonly secrets: readonly string[],
  ) {}

  /** The upstream events for one stream event; throws an `UpstreamFailure` for an error event or a broken order. */
  next(event: StreamEvent | UnknownEvent): UpstreamEvent[] {
    switch (event.type) {
      case 'ping':
        return [{ type: 'keepalive' }];
      case 'error':
        throw new UpstreamFailure(classifyStreamError(event.error, this.outputSeen, this.secrets));
      case 'unknown':
        return []; // the API may add event types; they carry nothing we translate
      case 'message_start':
        if (this.started) return []; // a repeated message_start (seen in the wild) adds nothing
        this.started = true;
        this.id = event.message.id;
        this.model = event.message.model;
        this.usage = mergeUsage({}, event.message.usage);
        return this.emit({ role: 'assistant', content: '' });
      default:
        if (!this.started) throw this.broken(`'${event.type}' before message_start`);
        return this.inMessage(event);
    }
  }

  private inMessage(event: Exclude<StreamEvent, { type: 'ping' | 'error' | 'message_start' }>): UpstreamEvent[] {
    switch (event.type) {
      case 'content_block_start':
        return this.start(event.index, event.content_block);
      case 'content_block_delta':
        return event.delta ? this.delta(event.index, event.delta) : [];
      case 'content_block_stop':
        return this.stopBlock(event.index);
      case 'message_delta':
        if (event.delta.stop_reason) this.stop = event.delta.stop_reason;
        if (event.delta.stop_details?.explanation) this.refusal = event.delta.stop_details.explanation;
        this.usage = mergeUsage(this.usage, event.usage);
        return [];
      case 'message_stop':
        return this.finish();
      default:
        return assertNever(event);
    }
  }

  private start(index: number, block: ContentBlock | undefined): UpstreamEvent[] {
    switch (block?.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        return block.text ? this.emit({ content: block.text }) : [];
      case 'thinking':
        this.blocks.set(index, { kind: 'thinking', thinking: block.thinking, signature: block.signature });
        return block.thinking ? this.emit({ reasoning_content: block.thinking }) : [];
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'redacted', data: block.data });
        return [];
      case 'tool_use': {
        if (block.name === this.context.jsonTool) {
          this.blocks.set(index, { kind: 'answer', json: '', input: block.input });
          return [];
        }
        const toolIndex = this.toolCount++;
        this.blocks.set(index, { kind: 'tool', toolIndex, args: '', input: block.input });
        return this.emit({ tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] });
      }
      case undefined:
        this.blocks.set(index, { kind: 'skipped' });
        return [];
      default:
        return assertNever(block);
    }
  }

  private delta(index: number, delta: ContentBlockDelta): UpstreamEvent[] {
    const block = this.blocks.get(index);
    if (!block) return [];
    switch (delta.type) {
      case 'text_delta':
        return block.kind === 'text' && delta.text ? this.emit({ content: delta.text }) : [];
      case 'thinking_delta':
        if (block.kind !== 'thinking' || !delta.thinking) return [];
        block.thinking += delta.thinking;
        return this.emit({ reasoning_content: delta.thinking });
      case 'signature_delta':
        if (block.kind === 'thinking') block.signature = delta.signature;
        return [];
      case 'input_json_delta':
        if (!delta.partial_json) return [];
        if (block.kind === 'answer') {
          block.json += delta.partial_json;
          return this.emit({ content: delta.partial_json });
        }
        if (block.kind !== 'tool') return [];
        block.args += delta.partial_json;
        return this.emit({ tool_calls: [{ index: block.toolIndex, function: { arguments: delta.partial_json } }] });
      default:
        return assertNever(delta);
    }
  }

  private stopBlock(index: number): UpstreamEvent[] {
    const block = this.blocks.get(index);
    this.blocks.delete(index);
    switch (block?.kind) {
      case 'thinking':
        return this.emit({ [THINKING_BLOCKS_FIELD]: [{ type: 'thinking', thinking: block.thinking, signature: block.signature }] });
      case 'redacted':
        return this.emit({ [THINKING_BLOCKS_FIELD]: [{ type: 'redacted_thinking', data: block.data }] });
      case 'tool':
        // A call without arguments streams none: complete it as the JSON it stands for.
        if (block.args !== '') return [];
        return this.emit({ tool_calls: [{ index: block.toolIndex, function: { arguments: JSON.stringify(block.input) } }] });
      case 'answer':
        return block.json === '' ? this.emit({ content: JSON.stringify(block.input) }) : [];
      case 'text':
      case 'skipped':
      case undefined:
        return [];
      default:
        return assertNever(block);
    }
  }

  private finish(): UpstreamEvent[] {
    this.done = true;
    const reason: FinishReason = finishReason(this.stop, this.toolCount > 0, this.context);
    const delta: ChunkDelta = reason === 'content_filter' && this.refusal ? { refusal: this.refusal } : {};
    const events = this.emit(delta, reason);
    events.push({ type: 'chunk', chunk: { ...this.base(), choices: [], usage: toUsage(this.usage) } });
    return events;
  }

  private emit(delta: ChunkDelta, finish: FinishReason | null = null): UpstreamEvent[] {
    const chunk: ChatChunk = { ...this.base(), choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    if (chunkHasOutput(chunk)) this.outputSeen = true;
    return [{ type: 'chunk', chunk }];
  }

  private base(): Pick<ChatChunk, 'id' | 'object' | 'created' | 'model'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.context.created, model: this.model };
  }

  private broken(why: string): UpstreamFailure {
    return new UpstreamFailure({
      kind: this.outputSeen ? 'stream_cut' : 'malformed_response',
      code: 'bad_event_order',
      message: `stream events out of order: ${why}`,
    });
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected stream value: ${JSON.stringify(value)}`);
}
