import type { ChatChunk, ChatRequest, ChatResponse } from '../canonical/chat.js';
import { ChunkAssembler, chunkHasOutput, responseToChunks } from '../canonical/chunks.js';
import { UpstreamFailure, isUpstreamFailure, type FailureDetails } from '../canonical/failure.js';
import type { Target, UpstreamEvent } from '../providers/target.js';
import type { RequestFault } from '../providers/fault-injection.js';
import { contractFailure, type RequestContract } from './contract.js';
import { chunkCommits, responseHasOutput } from './output.js';
import { gateToolCalls } from './tool-call-gate.js';
import type { AttemptWatch } from './watchdog.js';

type Committed =
  | { ok: true; mode: 'complete'; response: ChatResponse }
  /** `whole`: the complete answer, when it was known before the commit (buffered, or not streamed upstream); `rest` is then undefined. */
  | { ok: true; mode: 'stream'; head: ChatChunk[]; rest: AsyncIterator<UpstreamEvent> | undefined; whole?: ChatResponse };

export type AttemptResult = (Committed & { droppedParams: string[] }) | { ok: false; failure: FailureDetails };

export interface AttemptOptions {
  /** The route opted in to falling back on content-policy verdicts: a filtered answer is a failure. */
  refusalIsFailure: boolean;
  /**
   * The answer's output contract, when one applies. Checked here whenever the whole answer is known
   * before the commit point (non-streaming clients; streams in `buffer` mode, which are held whole
   * until they pass); a `pass` stream is checked by the engine when it ends.
   */
  contract: RequestContract | undefined;
  /** A fault the request carries, passed to the target call (the fault wrapper honours it). */
  fault?: RequestFault | undefined;
}

/**
 * Runs one attempt up to its commit point: for a streaming client, the first output chunk (in
 * contract `buffer` mode: the complete answer, once it passed the contract); for a non-streaming
 * client, the complete answer. Nothing reaches the client before that, so every failure up to
 * here — a contract violation included — can move to another target invisibly.
 */
export async function runAttempt(
  target: Target,
  request: ChatRequest,
  stream: boolean,
  includeUsage: boolean,
  watch: AttemptWatch,
  options: AttemptOptions = { refusalIsFailure: false, contract: undefined },
): Promise<AttemptResult> {
  let iterator: AsyncIterator<UpstreamEvent> | undefined;
  try {
    const call = await watch.within(target.call(request, { signal: watch.signal, stream, fault: options.fault }), 'headers');
    watch.markHeaders(call.headers);
    iterator = call.events[Symbol.asyncIterator]();
    const buffered = options.contract?.stream === 'buffer';
    // A streamed tool call reaches the client whole or not at all (tool-call-gate.ts).
    if (stream && !buffered && Array.isArray(request.tools) && request.tools.length > 0) iterator = gateToolCalls(iterator, watch);
    const result = !stream
      ? await untilComplete(iterator, watch)
      : buffered
        ? await untilBuffered(iterator, includeUsage, watch)
        : await untilFirstOutput(iterator, includeUsage, watch);
    if (options.refusalIsFailure && isFilteredBeforeOutput(result)) {
      throw new UpstreamFailure({ kind: 'content_policy', code: 'content_filter', message: "the provider's content filter stopped the answer" });
    }
    const whole = result.mode === 'complete' ? result.response : result.whole;
    const violation = whole && options.contract?.check(whole);
    if (violation) throw contractFailure(violation);
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
      return { ok: true, mode: 'stream', head: responseToChunks(event.response, includeUsage), rest: undefined, whole: event.response };
    }
    head.push(event.chunk);
    if (chunkCommits(event.chunk)) {
      watch.markOutput();
      return { ok: true, mode: 'stream', head, rest: iterator };
    }
  }
}

async function untilComplete(iterator: AsyncIterator<UpstreamEvent>, watch: AttemptWatch): Promise<Committed> {
  const { response } = await readWhole(iterator, watch, undefined);
  return { ok: true, mode: 'complete', response };
}

/** A stream in `buffer` mode: the whole answer is read (under the same watchdogs) before anything is committed, then replayed as received. */
async function untilBuffered(iterator: AsyncIterator<UpstreamEvent>, includeUsage: boolean, watch: AttemptWatch): Promise<Committed> {
  const chunks: ChatChunk[] = [];
  const { response, fromResponse } = await readWhole(iterator, watch, chunks);
  const head = fromResponse ? responseToChunks(response, includeUsage) : chunks;
  return { ok: true, mode: 'stream', head, rest: undefined, whole: response };
}

/** Reads an answer to its end (keeping its chunks in `keep`, when given) and assembles it; an answer without output fails. */
async function readWhole(
  iterator: AsyncIterator<UpstreamEvent>,
  watch: AttemptWatch,
  keep: ChatChunk[] | undefined,
): Promise<{ response: ChatResponse; fromResponse: boolean }> {
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
    keep?.push(event.chunk);
  }
  const result = response ?? assembler.result();
  if (!responseHasOutput(result)) throw emptyOutput();
  if (watch.firstOutputAt === undefined) watch.markOutput();
  return { response: result, fromResponse: response !== undefined };
}

/**
 * The provider's safety verdict with nothing else: a complete answer that finished with
 * `content_filter`, or a stream whose commit point was that verdict before any output. (Once a
 * stream has sent output, a later verdict can no longer be routed around.)
 */
function isFilteredBeforeOutput(result: Committed): boolean {
  if (result.mode === 'complete') return isFiltered(result.response);
  if (result.whole) return isFiltered(result.whole); // held whole: nothing has been sent yet
  const last = result.head.at(-1);
  return last !== undefined && !chunkHasOutput(last) && last.choices.some((c) => c.finish_reason === 'content_filter');
}

function isFiltered(response: ChatResponse): boolean {
  return response.choices.some((c) => c.finish_reason === 'content_filter');
}

function emptyOutput(): UpstreamFailure {
  return new UpstreamFailure({ kind: 'empty_output', message: 'the answer had no content and no tool call' });
}

export function asFailure(error: unknown): UpstreamFailure {
  if (isUpstreamFailure(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamFailure({ kind: 'server_error', code: 'internal', message: `unexpected error: ${message}` });
}
