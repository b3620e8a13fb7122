import type { ChatChunk, ChatRequest, ChatResponse } from '../canonical/chat.js';
import { ChunkAssembler, chunkHasOutput, responseToChunks } from '../canonical/chunks.js';
import { UpstreamFailure, isUpstreamFailure, type FailureDetails } from '../canonical/failure.js';
import type { Target, UpstreamEvent } from '../providers/target.js';
import { chunkCommits, responseHasOutput } from './output.js';
import type { AttemptWatch } from './watchdog.js';

type Committed =
  | { ok: true; mode: 'complete'; response: ChatResponse }
  | { ok: true; mode: 'stream'; head: ChatChunk[]; rest: AsyncIterator<UpstreamEvent> | undefined };

export type AttemptResult = (Committed & { droppedParams: string[] }) | { ok: false; failure: FailureDetails };

/**
 * Runs one attempt up to its commit point: for a streaming client, the first output chunk;
 * for a non-streaming client, the complete answer. Nothing reaches the client before that, so
 * every failure up to here can move to another target invisibly.
 */
export async function runAttempt(
  target: Target,
  request: ChatRequest,
  stream: boolean,
  includeUsage: boolean,
  watch: AttemptWatch,
  /** The route opted in to falling back on content-policy verdicts: a filtered answer is a failure. */
  refusalIsFailure = false,
): Promise<AttemptResult> {
  let iterator: AsyncIterator<UpstreamEvent> | undefined;
  try {
    const call = await watch.within(target.call(request, { signal: watch.signal, stream }), 'headers');
    watch.markHeaders();
    iterator = call.events[Symbol.asyncIterator]();
    const result = stream ? await untilFirstOutput(iterator, includeUsage, watch) : await untilComplete(iterator, watch);
    if (refusalIsFailure && isFilteredBeforeOutput(result)) {
      throw new UpstreamFailure({ kind: 'content_policy', code: 'content_filter', message: "the provider's content filter stopped the answer" });
    }
    return { ...result, droppedParams: call.droppedParams ?? [] };
  } catch (error) {
    const failure = asFailure(error);
    watch.abort(failure);
    void iterator?.return?.().catch(() => undefined);
    return { ok: false, failure: failure.details };
  }
}

async function untilFirstOutput(
  iterator: AsyncIterator<UpstreamEvent>,
  includeUsage: boolean,
  watch: AttemptWatch,
): Promise<Committed> {
  const head: ChatChunk[] = [];
  for (;;) {
    const next = await watch.within(iterator.next(), 'body');
    if (next.done) throw emptyOutput();
    const event = next.value;
    if (event.type === 'keepalive') continue;
    if (event.type === 'response') {
      if (!responseHasOutput(event.response)) throw emptyOutput();
      watch.markOutput();
      return { ok: true, mode: 'stream', head: responseToChunks(event.response, includeUsage), rest: undefined };
    }
    head.push(event.chunk);
    if (chunkCommits(event.chunk)) {
      watch.markOutput();
      return { ok: true, mode: 'stream', head, rest: iterator };
    }
  }
}

async function untilComplete(iterator: AsyncIterator<UpstreamEvent>, watch: AttemptWatch): Promise<Committed> {
  const assembler = new ChunkAssembler();
  let response: ChatResponse | undefined;
  for (;;) {
    const next = await watch.within(iterator.next(), 'body');
    if (next.done) break;
    const event = next.value;
    if (event.type === 'keepalive') continue;
    if (event.type === 'response') {
      response = event.response;
      continue;
    }
    if (chunkHasOutput(event.chunk)) watch.markOutput();
    assembler.add(event.chunk);
  }
  const result = response ?? assembler.result();
  if (!responseHasOutput(result)) throw emptyOutput();
  if (watch.firstOutputAt === undefined) watch.markOutput();
  return { ok: true, mode: 'complete', response: result };
}

/**
 * The provider's safety verdict with nothing else: a complete answer that finished with
 * `content_filter`, or a stream whose commit point was that verdict before any output. (Once a
 * stream has sent output, a later verdict can no longer be routed around.)
 */
function isFilteredBeforeOutput(result: Committed): boolean {
  if (result.mode === 'complete') return result.response.choices.some((c) => c.finish_reason === 'content_filter');
  const last = result.head.at(-1);
  return last !== undefined && !chunkHasOutput(last) && last.choices.some((c) => c.finish_reason === 'content_filter');
}

function emptyOutput(): UpstreamFailure {
  return new UpstreamFailure({ kind: 'empty_output', message: 'the answer had no content and no tool call' });
}

export function asFailure(error: unknown): UpstreamFailure {
  if (isUpstreamFailure(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamFailure({ kind: 'server_error', code: 'internal', message: `unexpected error: ${message}` });
}
