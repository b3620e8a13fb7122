import { jsonAnswer, textAnswer, toolCallAnswer } from './answer.js';
import { type Interrupt, sendError, sendGarbage, sendMessage, sendTruncated, streamAnswer } from './completion.js';
import type { Answer, Dialect, SimRequest } from './dialect.js';
import type { Exchange } from './exchange.js';
import { DEFAULT_GARBAGE, DEFAULT_TEXT, contentPieces } from './payloads.js';
import type { LeafScenario } from './scenario.js';

/** Default status of `midstream_error`: overloaded. */
export const DEFAULT_MIDSTREAM_STATUS = 529;

interface Delivery {
  headerDelayMs?: number;
  firstTokenDelayMs?: number;
  chunkDelayMs?: number;
  chunks?: number;
  complete?: boolean;
}

/** A streamed (or, non-stream, plain) answer with optional delays. */
function deliver(x: Exchange, d: Dialect, req: SimRequest, answer: Answer, opts: Delivery = {}): Promise<void> {
  if (!req.stream) return sendMessage(x, d, req, answer, (opts.headerDelayMs ?? 0) + (opts.firstTokenDelayMs ?? 0));
  const text = answer.kind === 'message' ? answer.text : '';
  // A tool call without text has no text chunks, whatever `chunks` asks for.
  const toolOnly = answer.kind === 'message' && answer.toolCall !== undefined && text === '';
  return streamAnswer(x, d, req, answer, {
    pieces: toolOnly ? [] : contentPieces(text, opts.chunks),
    headerDelayMs: opts.headerDelayMs ?? 0,
    firstTokenDelayMs: opts.firstTokenDelayMs ?? 0,
    chunkDelayMs: opts.chunkDelayMs ?? 0,
    complete: opts.complete ?? true,
  });
}

/** A text stream interrupted after `afterChunks` content chunks (the text is split so the point falls inside it). */
function interrupted(x: Exchange, d: Dialect, req: SimRequest, text: string, interrupt: Interrupt): Promise<void> {
  return streamAnswer(x, d, req, { kind: 'message', text }, {
    pieces: contentPieces(text, undefined, interrupt.afterChunks + 1),
    headerDelayMs: 0,
    firstTokenDelayMs: 0,
    chunkDelayMs: 0,
    interrupt,
    complete: true,
  });
}

/** Executes one resolved scenario against one request, in the request's wire format. */
export async function runBehaviour(scenario: LeafScenario, x: Exchange, d: Dialect, req: SimRequest): Promise<void> {
  switch (scenario.kind) {
    case 'ok':
      return deliver(x, d, req, textAnswer(req, scenario.text ?? DEFAULT_TEXT), {
        headerDelayMs: scenario.latency_ms,
        chunkDelayMs: scenario.chunk_delay_ms,
        chunks: scenario.chunks,
      });
    case 'slow_first_token':
      return deliver(x, d, req, { kind: 'message', text: scenario.text ?? DEFAULT_TEXT }, { firstTokenDelayMs: scenario.delay_ms });
    case 'missing_done':
      return deliver(x, d, req, { kind: 'message', text: scenario.text ?? DEFAULT_TEXT }, { complete: false });
    case 'empty':
      return deliver(x, d, req, { kind: 'message', text: '' });
    case 'tool_call':
      return deliver(x, d, req, toolCallAnswer(req, scenario));
    case 'json':
      return deliver(x, d, req, jsonAnswer(req, scenario));

    case 'cut': {
      const text = scenario.text ?? DEFAULT_TEXT;
      if (!req.stream) return sendTruncated(x, d, req, { kind: 'message', text });
      return interrupted(x, d, req, text, { kind: 'cut', afterChunks: scenario.after_chunks });
    }
    case 'malformed_chunk': {
      if (!req.stream) return sendGarbage(x, d, req, d.malformedBody);
      return interrupted(x, d, req, scenario.text ?? DEFAULT_TEXT, { kind: 'malformed', afterChunks: scenario.after_chunks });
    }
    case 'stall': {
      const text = scenario.text ?? DEFAULT_TEXT;
      if (req.stream) return interrupted(x, d, req, text, { kind: 'stall', afterChunks: scenario.after_chunks, ms: scenario.stall_ms });
      return scenario.stall_ms === undefined ? x.untilClosed() : sendMessage(x, d, req, { kind: 'message', text }, scenario.stall_ms);
    }
    case 'midstream_error': {
      const status = scenario.status ?? DEFAULT_MIDSTREAM_STATUS;
      if (!req.stream) return sendError(x, d, req, { kind: 'status', status, message: scenario.message });
      const interrupt: Interrupt = { kind: 'error', afterChunks: scenario.after_chunks, status, message: scenario.message };
      return interrupted(x, d, req, scenario.text ?? DEFAULT_TEXT, interrupt);
    }

    case 'context_window': {
      const limit = scenario.limit ?? 4096;
      const tokens = Math.max(limit + 1, Math.round(req.promptChars / 4));
      return sendError(x, d, req, { kind: 'context_window', limit, tokens });
    }
    case 'content_filter':
      if (d.contentFilterIsError) return sendError(x, d, req, { kind: 'content_filter' });
      return deliver(x, d, req, { kind: 'refusal' });
    default:
      return sendFailure(scenario, x, d, req);
  }
}

/** Scenarios whose failure is the same for every kind of request (chat or embeddings): connection faults and error statuses. */
export type CommonFailureScenario = Extract<
  LeafScenario,
  { kind: 'reset' | 'no_response' | 'garbage' | 'rate_limit' | 'insufficient_quota' | 'status' | 'invalid_request' | 'unsupported_parameter' | 'auth_error' }
>;

/** Sends a common failure: the one place both chat and embeddings behaviours fail the same way. */
export async function sendFailure(scenario: CommonFailureScenario, x: Exchange, d: Dialect, req: SimRequest): Promise<void> {
  switch (scenario.kind) {
    case 'reset':
      x.destroySocket(true);
      return;
    case 'no_response':
      return x.untilClosed();
    case 'garbage':
      return sendGarbage(x, d, req, scenario.body ?? DEFAULT_GARBAGE);
    case 'rate_limit':
      return sendError(x, d, req, { kind: 'rate_limit', retryAfterS: scenario.retry_after_s, retryAfterMs: scenario.retry_after_ms });
    case 'insufficient_quota':
      return sendError(x, d, req, { kind: 'insufficient_quota' });
    case 'status':
      return sendError(x, d, req, { kind: 'status', status: scenario.status, message: scenario.message, retryAfterS: scenario.retry_after_s });
    case 'invalid_request':
      return sendError(x, d, req, { kind: 'invalid_request' });
    case 'unsupported_parameter':
      return sendError(x, d, req, { kind: 'unsupported_parameter' });
    case 'auth_error':
      return sendError(x, d, req, { kind: 'auth_error', key: req.apiKey });
  }
}
