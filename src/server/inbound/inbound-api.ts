import type { IncomingHttpHeaders } from 'node:http';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../canonical/chat.js';
import type { ClientError } from '../../engine/all-failed.js';
import type { AttemptRecord } from '../../engine/attempt.js';
import type { Served } from '../../engine/engine.js';

export type ParsedInbound = { ok: true; request: ChatRequest; encoderOptions: EncoderOptions } | { ok: false; error: ClientError };

/** Per-request facts the encoders need from the client's original request. */
export interface EncoderOptions {
  /** Forward the usage chunk (OpenAI: only when `stream_options.include_usage`). */
  includeUsage: boolean;
  /** The client asked for reasoning/thinking to be returned. */
  includeReasoning: boolean;
}

/** Writes one stream in an inbound API's wire format. Stateful: one encoder per response. */
export interface StreamEncoder {
  chunk(chunk: ChatChunk): string;
  keepalive(): string;
  /** The stream failed after output: the API's in-stream error event (no success terminator follows). */
  error(error: ClientError): string;
  /** A successful end: whatever closes the stream, with who served. */
  end(served: Served): string;
}

/**
 * What the client speaks. Each inbound API parses into the canonical request and renders the
 * canonical answer back; everything between (routing, engine, headers) is shared.
 */
export interface InboundApi {
  readonly name: string;
  parse(body: Buffer, headers: IncomingHttpHeaders): ParsedInbound;
  responseBody(response: ChatResponse, options: EncoderOptions): string;
  errorBody(error: ClientError, attempts?: readonly AttemptRecord[]): string;
  streamEncoder(options: EncoderOptions): StreamEncoder;
}

/**
 * The trailer every stream carries at its end (an SSE comment): who finished the answer, in how
 * many attempts, and — when another target continued a failed stream — every contributor and
 * where the answer was spliced.
 */
export function servedTrailer(served: Served, attempts: number): string {
  const trailer: Record<string, unknown> = { route: served.route, served_by: served.servedBy, attempts, degraded: served.degraded };
  if (served.contributors) trailer['contributors'] = served.contributors;
  if (served.splices) {
    trailer['splices'] = served.splices.map((s) => ({ from: s.from, to: s.to, at_char: s.atChar, mode: s.mode, overlap_chars: s.overlapChars }));
  }
  return `: understudy ${JSON.stringify(trailer)}\n\n`;
}
