import type { Answer, Dialect, SimError, SimRequest } from './dialect.js';
import type { Exchange } from './exchange.js';

/** Format-neutral delivery of answers and errors: timing, interruption, framing by the dialect. */

/** Where and how a stream is interrupted after `afterChunks` content chunks. */
export type Interrupt =
  | { kind: 'cut'; afterChunks: number }
  | { kind: 'stall'; afterChunks: number; ms: number | undefined }
  | { kind: 'malformed'; afterChunks: number }
  | { kind: 'error'; afterChunks: number; status: number; message: string | undefined };

export interface StreamPlan {
  /** Text pieces, one per content chunk. */
  pieces: string[];
  /** Before the response headers. */
  headerDelayMs: number;
  /** After the head frames (role chunk, message_start…), before the first content chunk. */
  firstTokenDelayMs: number;
  /** Between consecutive content chunks. */
  chunkDelayMs: number;
  interrupt?: Interrupt;
  /** Whether to end with the format's end-of-stream marker. */
  complete: boolean;
}

/** A whole non-streaming response after `delayMs`. */
export async function sendMessage(x: Exchange, d: Dialect, req: SimRequest, answer: Answer, delayMs = 0): Promise<void> {
  if (!(await x.sleep(delayMs))) return;
  x.send(200, d.message(req, answer), { 'content-type': d.jsonContentType });
}

/** An error reply in the dialect's envelope. */
export function sendError(x: Exchange, d: Dialect, req: Pick<SimRequest, 'stream'> & { model?: string }, e: SimError): void {
  const reply = d.error(e, { requestId: x.requestId, stream: req.stream, model: req.model });
  x.send(reply.status, reply.body, reply.headers);
}

/** Headers promise a complete JSON body; half of it arrives, then the connection dies. */
export async function sendTruncated(x: Exchange, d: Dialect, req: SimRequest, answer: Answer): Promise<void> {
  const body = Buffer.from(d.message(req, answer), 'utf8');
  if (!x.writeHead(200, { 'content-type': d.jsonContentType, 'content-length': body.length })) return;
  if (!(await x.write(body.subarray(0, Math.floor(body.length / 2))))) return;
  x.destroySocket();
}

/** A 200 whose body is not what the content-type promises. */
export function sendGarbage(x: Exchange, d: Dialect, req: SimRequest, body: string): void {
  x.send(200, body, { 'content-type': req.stream ? d.streamContentType : d.jsonContentType });
}

/** Runs the interruption; returns false when the stream must stop here. */
async function interrupt(x: Exchange, d: Dialect, i: Interrupt): Promise<boolean> {
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
      return x.write(d.malformedFrame);
    case 'error':
      if (await x.write(d.streamError(i.status, i.message))) x.end();
      return false;
  }
}

async function writeAll(x: Exchange, frames: string[]): Promise<boolean> {
  for (const f of frames) if (!(await x.write(f))) return false;
  return true;
}

/** A streamed answer following `plan`. */
export async function streamAnswer(x: Exchange, d: Dialect, req: SimRequest, answer: Answer, plan: StreamPlan): Promise<void> {
  if (!(await x.sleep(plan.headerDelayMs))) return;
  const script = d.stream(req, answer, { pieces: plan.pieces, complete: plan.complete });
  if (!x.writeHead(200, { 'content-type': d.streamContentType, 'cache-control': 'no-cache' })) return;
  // Headers go out at once even when the head is empty (Gemini): a stream has started.
  x.res.flushHeaders();
  if (!(await writeAll(x, script.head))) return;

  const n = script.chunks.length;
  // An interruption point beyond the content happens right before the tail.
  const interruptAt = plan.interrupt ? Math.min(plan.interrupt.afterChunks, n) : -1;
  for (let i = 0; i <= n; i++) {
    if (plan.interrupt && i === interruptAt && !(await interrupt(x, d, plan.interrupt))) return;
    if (i === n) break;
    const wait = i === 0 ? plan.firstTokenDelayMs : plan.chunkDelayMs;
    if (!(await x.sleep(wait))) return;
    if (!(await x.write(script.chunks[i] ?? ''))) return;
  }

  if (!(await writeAll(x, script.tail))) return;
  x.end();
}
