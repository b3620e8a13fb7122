import type { EventSourceMessage } from 'eventsource-parser';
import { attachNativeMessage, attachNativeText } from '../../canonical/native.js';
import type { UpstreamEvent } from '../target.js';
import { MessageAccumulator } from './message-accumulator.js';
import { toChatResponse, type ResponseContext } from './response.js';
import type { AnthropicStreamState } from './stream-state.js';
import type { Message } from './wire.js';
import { decodeMessage } from './decode.js';

/**
 * The native side of a pass-through stream: raw events ride on the canonical chunk they produced
 * (events that produce none wait for the next one; pings are the encoder's own business), and for
 * a non-streaming client the rebuilt message follows the last chunk as a response event.
 */
export class NativeStream {
  private pending = '';
  private readonly accumulator = new MessageAccumulator();

  constructor(private readonly context: ResponseContext) {}

  /** Attaches `message`'s raw text; returns events to append (the native response at the end, when the client does not stream). */
  add(message: EventSourceMessage, event: Record<string, unknown>, produced: UpstreamEvent[], state: AnthropicStreamState): UpstreamEvent[] {
    const type = typeof event.type === 'string' ? event.type : message.event;
    if (type === 'ping') return [];
    this.accumulator.add(event);
    this.pending += `event: ${message.event ?? type}\ndata: ${message.data}\n\n`;
    const carrier = produced.find((e) => e.type === 'chunk');
    if (carrier?.type === 'chunk') {
      attachNativeText(carrier.chunk, this.pending);
      this.pending = '';
    }
    if (this.context.passThrough !== 'complete' || !state.done) return [];
    const raw = this.accumulator.result();
    const decoded = raw ? (decodeMessage(raw) as Message | undefined) : undefined;
    if (!raw || !decoded) return [];
    return [{ type: 'response', response: attachNativeMessage(toChatResponse(decoded, this.context), raw) }];
  }
}
