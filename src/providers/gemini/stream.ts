import { UpstreamFailure } from '../../canonical/failure.js';
import { feedSse } from '../sse-feed.js';
import type { UpstreamEvent } from '../target.js';
import { classifyGeminiError, readGeminiError } from './errors.js';
import type { ResponseContext } from './response.js';
import { GeminiStreamState, truncate } from './stream-state.js';

/** How much of a body that is not SSE we keep, to read an error envelope sent instead of events. */
const MAX_RAW = 64 * 1024;

/**
 * Turns a Gemini `streamGenerateContent?alt=sse` body into upstream events. Each SSE event is a
 * whole GenerateContentResponse carrying only the new parts; there are no event names and no
 * [DONE]: the stream ends when the connection closes, and it is complete only if every
 * candidate got a finishReason (else `stream_cut`). Per candidate: a role chunk first, then
 * text / reasoning / complete tool-call deltas, then a finish chunk; the usage (cumulative, the
 * last one wins) follows as a `choices: []` chunk at the end. An error envelope — as an event,
 * or as the whole body of an event-stream response — is classified like an HTTP error.
 */
export async function* parseGeminiStream(
  body: AsyncIterable<Uint8Array | string>,
  ctx: ResponseContext,
  secrets: readonly string[],
): AsyncGenerator<UpstreamEvent> {
  const state = new GeminiStreamState(ctx, secrets);
  const stats = yield* feedSse(
    body,
    {
      queue: state.queue,
      onEvent: (message) => state.onData(message.data),
      onComment: () => state.queue.push({ type: 'keepalive' }),
      failure: () => state.failure,
      done: () => false, // no [DONE]: the stream ends when the connection closes
    },
    MAX_RAW,
  );
  if (stats.events === 0) throw notSse(stats.raw, secrets);
  const usage = state.finish();
  if (usage) yield usage;
}

/** A body of an event-stream response with no SSE event in it: an error envelope, or garbage. */
function notSse(raw: string, secrets: readonly string[]): UpstreamFailure {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const error = readGeminiError(parsed);
  if (error) return new UpstreamFailure(classifyGeminiError(undefined, error, raw, undefined, secrets));
  if (raw.trim() === '') return new UpstreamFailure({ kind: 'stream_cut', code: 'empty_body', message: 'stream ended before any event' });
  return new UpstreamFailure({ kind: 'malformed_response', code: 'not_sse', message: `upstream body is not an SSE stream: ${truncate(raw)}` });
}
