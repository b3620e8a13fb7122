import type { EventSourceMessage } from 'eventsource-parser';
import type { ChatChunk } from '../../canonical/chat.js';
import { chunkFinishes, chunkHasOutput } from '../../canonical/chunks.js';
import { UpstreamFailure } from '../../canonical/failure.js';
import { feedSse } from '../sse-feed.js';
import type { UpstreamEvent } from '../target.js';
import { classifyStreamError, readErrorBody } from './errors.js';
import { StreamNormaliser, type StreamNormaliserOptions } from './normalise.js';

const DEFAULT_NORMALISATION: StreamNormaliserOptions = {
  fallbackIdentity: { id: 'chatcmpl-upstream', created: 0, model: '' },
  separateUsage: false,
};

/**
 * Turns an OpenAI-wire SSE body into upstream events. Pure with respect to I/O: it reads the
 * byte iterable it is given. Ends normally at `data: [DONE]`, or at the end of the body once a
 * finish_reason was seen (some compatible servers omit [DONE]); anything else is a cut.
 * Chunks come out normalised (see `normalise.ts`); an upstream chunk that carried nothing (an
 * Azure filter annotation) is reported as a keep-alive.
 */
export async function* parseOpenAIStream(
  body: AsyncIterable<Uint8Array | string>,
  secrets: readonly string[],
  normalisation: StreamNormaliserOptions = DEFAULT_NORMALISATION,
): AsyncGenerator<UpstreamEvent> {
  const normaliser = new StreamNormaliser(normalisation);
  const queue: UpstreamEvent[] = [];
  let done = false;
  let finished = false;
  let outputSeen = false;
  let failure: UpstreamFailure | undefined;

  const onEvent = (message: EventSourceMessage): void => {
    if (done || failure) return;
    const data = message.data;
    if (data === '[DONE]') {
      done = true;
      return;
    }
    if (data.trim() === '') {
      queue.push({ type: 'keepalive' });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      failure = new UpstreamFailure({
        kind: outputSeen ? 'stream_cut' : 'malformed_response',
        message: `malformed stream event: ${truncate(data)}`,
        code: 'malformed_chunk',
      });
      return;
    }
    if (readErrorBody(parsed) && !Array.isArray((parsed as { choices?: unknown }).choices)) {
      const details = classifyStreamError(parsed, secrets);
      failure = new UpstreamFailure(outputSeen ? { ...details, kind: 'stream_cut', code: details.code ?? details.kind } : details);
      return;
    }
    if (!isChunk(parsed)) {
      failure = new UpstreamFailure({
        kind: outputSeen ? 'stream_cut' : 'malformed_response',
        message: `stream event is not a chat.completion.chunk: ${truncate(data)}`,
        code: 'malformed_chunk',
      });
      return;
    }
    const chunks = normaliser.push(parsed);
    if (chunks.length === 0) queue.push({ type: 'keepalive' });
    for (const chunk of chunks) {
      if (chunkHasOutput(chunk)) outputSeen = true;
      if (chunkFinishes(chunk)) finished = true;
      queue.push({ type: 'chunk', chunk });
    }
  };

  const stats = yield* feedSse(body, {
    queue,
    onEvent,
    onComment: () => queue.push({ type: 'keepalive' }),
    failure: () => failure,
    done: () => done,
  });
  if (done || finished) return;
  if (!outputSeen && stats.invalidLines > 0) {
    throw new UpstreamFailure({ kind: 'malformed_response', message: 'upstream body is not an SSE stream', code: 'not_sse' });
  }
  throw new UpstreamFailure({
    kind: 'stream_cut',
    message: 'stream ended without [DONE] and without a finish_reason',
    code: 'no_done',
  });
}

function isChunk(value: unknown): value is ChatChunk {
  if (typeof value !== 'object' || value === null) return false;
  const choices = (value as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return false;
  for (const choice of choices) {
    if (typeof choice !== 'object' || choice === null) return false;
    const delta = (choice as { delta?: unknown }).delta;
    if (delta !== undefined && (typeof delta !== 'object' || delta === null)) return false;
    if (delta === undefined) (choice as { delta: object }).delta = {};
  }
  return true;
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
