import type { EventSourceMessage } from 'eventsource-parser';
import { UpstreamFailure } from '../../canonical/failure.js';
import { feedSse } from '../sse-feed.js';
import type { UpstreamEvent } from '../target.js';
import { decodeStreamEvent, isObject } from './decode.js';
import { NativeStream } from './native-stream.js';
import type { ResponseContext } from './response.js';
import { AnthropicStreamState } from './stream-state.js';

/**
 * Turns an Anthropic Messages SSE body into upstream events (canonical chunks). Pure with respect
 * to I/O: it reads the byte iterable it is given.
 *
 * Ends normally at `message_stop`. Everything else is a failure, classified by whether output
 * was already produced: an `event: error` is classified by its `error.type` before output and is
 * a `stream_cut` after; an unparseable event is `malformed_response` before output and a
 * `stream_cut` after; a body that ends without `message_stop` is a `stream_cut` (even after
 * `message_delta`: the finish chunk is only emitted at `message_stop`). A tool call cut by
 * `max_tokens` (no `content_block_stop`, then `message_delta`/`message_stop` — the SDKs'
 * "incomplete partial JSON" recording) is a complete stream with `finish_reason: 'length'` and
 * the arguments as far as they came: the same thing OpenAI sends for a truncated tool call.
 */
export async function* parseAnthropicStream(
  body: AsyncIterable<Uint8Array | string>,
  context: ResponseContext,
  secrets: readonly string[],
): AsyncGenerator<UpstreamEvent> {
  const state = new AnthropicStreamState(context, secrets);
  const native = new NativeStream(context);
  const queue: UpstreamEvent[] = [];
  let failure: UpstreamFailure | undefined;

  const malformed = (why: string, data: string): UpstreamFailure =>
    new UpstreamFailure({
      kind: state.outputSeen ? 'stream_cut' : 'malformed_response',
      code: 'malformed_event',
      message: `${why}: ${truncate(data)}`,
    });

  const onEvent = (message: EventSourceMessage): void => {
    if (state.done || failure) return;
    if (message.data.trim() === '') {
      queue.push({ type: 'keepalive' });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.data);
    } catch {
      failure = malformed('malformed stream event', message.data);
      return;
    }
    const event = decodeStreamEvent(parsed);
    if (!event) {
      failure = malformed('not an Anthropic stream event', message.data);
      return;
    }
    try {
      const produced = state.next(event);
      if (context.passThrough && isObject(parsed)) produced.push(...native.add(message, parsed, produced, state));
      queue.push(...produced);
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      failure = error;
    }
  };

  const stats = yield* feedSse(body, {
    queue,
    onEvent,
    onComment: () => queue.push({ type: 'keepalive' }),
    failure: () => failure,
    done: () => state.done,
  });
  if (state.done) return;
  if (!state.outputSeen && stats.invalidLines > 0) {
    throw new UpstreamFailure({ kind: 'malformed_response', message: 'upstream body is not an SSE stream', code: 'not_sse' });
  }
  throw new UpstreamFailure({ kind: 'stream_cut', message: 'stream ended without message_stop', code: 'no_message_stop' });
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
