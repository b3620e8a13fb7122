import type { Exchange } from './exchange.js';
import {
  ChunkFactory,
  MALFORMED_SSE_EVENT,
  SSE_DONE,
  buildCompletion,
  buildUsage,
  estimatePromptTokens,
  estimateTokens,
  newMeta,
  sseData,
} from './payloads.js';

/** What the simulator knows about one parsed chat-completions request. */
export interface ChatRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  body: Record<string, unknown>;
  /** Bearer token the client sent, if any. */
  apiKey: string | undefined;
}

/** Where and how a stream is interrupted after `afterChunks` content chunks. */
export type Interrupt =
  | { kind: 'cut'; afterChunks: number }
  | { kind: 'stall'; afterChunks: number; ms: number | undefined }
  | { kind: 'malformed'; afterChunks: number };

export interface StreamPlan {
  text: string;
  pieces: string[];
  /** Before the response headers. */
  headerDelayMs: number;
  /** After the role chunk, before the first content chunk. */
  firstTokenDelayMs: number;
  /** Between consecutive content chunks. */
  chunkDelayMs: number;
  interrupt?: Interrupt;
  /** Whether to terminate with `data: [DONE]`. */
  done: boolean;
}

export const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
} as const;

function usageFor(req: ChatRequest, text: string): ReturnType<typeof buildUsage> {
  return buildUsage(estimatePromptTokens(req.body), estimateTokens(text));
}

/** The serialized non-streaming completion for `text`. */
export function completionBody(req: ChatRequest, text: string): string {
  return JSON.stringify(buildCompletion(newMeta(req.model), text, usageFor(req, text)));
}

/** A whole non-streaming completion after `delayMs`. */
export async function sendCompletion(x: Exchange, req: ChatRequest, text: string, delayMs = 0): Promise<void> {
  if (!(await x.sleep(delayMs))) return;
  const body = completionBody(req, text);
  if (!x.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })) return;
  x.end(body);
}

/** Runs the interruption; returns false when the stream must stop here. */
async function interrupt(x: Exchange, i: Interrupt): Promise<boolean> {
  switch (i.kind) {
    case 'cut':
      x.destroySocket();
      return false;
    case 'stall':
      if (i.ms === undefined) {
        await x.untilClosed();
        return false;
      }
      return x.sleep(i.ms);
    case 'malformed':
      return x.write(MALFORMED_SSE_EVENT);
  }
}

/** A streamed completion following `plan`. */
export async function streamCompletion(x: Exchange, req: ChatRequest, plan: StreamPlan): Promise<void> {
  if (!(await x.sleep(plan.headerDelayMs))) return;
  const chunks = new ChunkFactory(newMeta(req.model), req.includeUsage);
  if (!x.writeHead(200, STREAM_HEADERS)) return;
  if (!(await x.write(sseData(chunks.role())))) return;

  const n = plan.pieces.length;
  // An interruption point beyond the text happens right before the finish chunk.
  const interruptAt = plan.interrupt ? Math.min(plan.interrupt.afterChunks, n) : -1;
  for (let i = 0; i <= n; i++) {
    if (plan.interrupt && i === interruptAt && !(await interrupt(x, plan.interrupt))) return;
    if (i === n) break;
    const wait = i === 0 ? plan.firstTokenDelayMs : plan.chunkDelayMs;
    if (!(await x.sleep(wait))) return;
    if (!(await x.write(sseData(chunks.content(plan.pieces[i] ?? ''))))) return;
  }

  if (!(await x.write(sseData(chunks.finish())))) return;
  if (req.includeUsage && !(await x.write(sseData(chunks.usage(usageFor(req, plan.text)))))) return;
  if (plan.done && !(await x.write(SSE_DONE))) return;
  x.end();
}
