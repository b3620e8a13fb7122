import type { OutgoingHttpHeaders } from 'node:http';
import { type ChatRequest, STREAM_HEADERS, completionBody, sendCompletion, streamCompletion } from './completion.js';
import * as errors from './errors.js';
import type { Exchange } from './exchange.js';
import { DEFAULT_GARBAGE, DEFAULT_TEXT, MALFORMED_JSON, contentPieces } from './payloads.js';
import type { LeafScenario } from './scenario.js';

function retryHeaders(retryAfterS?: number, retryAfterMs?: number): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = {};
  if (retryAfterS !== undefined) h['retry-after'] = String(retryAfterS);
  if (retryAfterMs !== undefined) h['retry-after-ms'] = String(retryAfterMs);
  return h;
}

/** A streamed (or, non-stream, plain) completion with optional delays and interruption. */
function completion(
  x: Exchange,
  req: ChatRequest,
  text: string,
  opts: { headerDelayMs?: number; firstTokenDelayMs?: number; chunkDelayMs?: number; chunks?: number; done?: boolean } = {},
): Promise<void> {
  if (!req.stream) return sendCompletion(x, req, text, (opts.headerDelayMs ?? 0) + (opts.firstTokenDelayMs ?? 0));
  return streamCompletion(x, req, {
    text,
    pieces: contentPieces(text, opts.chunks),
    headerDelayMs: opts.headerDelayMs ?? 0,
    firstTokenDelayMs: opts.firstTokenDelayMs ?? 0,
    chunkDelayMs: opts.chunkDelayMs ?? 0,
    done: opts.done ?? true,
  });
}

/** Headers promise a complete JSON body; half of it arrives, then the connection dies. */
async function truncatedJson(x: Exchange, req: ChatRequest, text: string): Promise<void> {
  const body = Buffer.from(completionBody(req, text), 'utf8');
  if (!x.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })) return;
  if (!(await x.write(body.subarray(0, Math.floor(body.length / 2))))) return;
  x.destroySocket();
}

/** A 200 whose body is not what the content-type promises. */
function garbage(x: Exchange, req: ChatRequest, body: string): void {
  const contentType = req.stream ? STREAM_HEADERS['content-type'] : 'application/json';
  if (!x.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) })) return;
  x.end(body);
}

/** Executes one resolved scenario against one request. */
export async function runBehaviour(scenario: LeafScenario, x: Exchange, req: ChatRequest): Promise<void> {
  switch (scenario.kind) {
    case 'ok':
      return completion(x, req, scenario.text ?? DEFAULT_TEXT, {
        headerDelayMs: scenario.latency_ms,
        chunkDelayMs: scenario.chunk_delay_ms,
        chunks: scenario.chunks,
      });
    case 'slow_first_token':
      return completion(x, req, scenario.text ?? DEFAULT_TEXT, { firstTokenDelayMs: scenario.delay_ms });
    case 'missing_done':
      return completion(x, req, scenario.text ?? DEFAULT_TEXT, { done: false });
    case 'empty':
      return completion(x, req, '');

    case 'cut':
    case 'stall':
    case 'malformed_chunk': {
      const text = scenario.text ?? DEFAULT_TEXT;
      if (!req.stream) {
        if (scenario.kind === 'cut') return truncatedJson(x, req, text);
        if (scenario.kind === 'malformed_chunk') return garbage(x, req, MALFORMED_JSON);
        if (scenario.stall_ms === undefined) return x.untilClosed();
        return sendCompletion(x, req, text, scenario.stall_ms);
      }
      const afterChunks = scenario.after_chunks;
      return streamCompletion(x, req, {
        text,
        pieces: contentPieces(text, undefined, afterChunks + 1),
        headerDelayMs: 0,
        firstTokenDelayMs: 0,
        chunkDelayMs: 0,
        interrupt:
          scenario.kind === 'stall'
            ? { kind: 'stall', afterChunks, ms: scenario.stall_ms }
            : { kind: scenario.kind === 'cut' ? 'cut' : 'malformed', afterChunks },
        done: true,
      });
    }

    case 'reset':
      x.destroySocket(true);
      return;
    case 'no_response':
      return x.untilClosed();
    case 'garbage':
      return garbage(x, req, scenario.body ?? DEFAULT_GARBAGE);

    case 'rate_limit':
      return x.sendJson(429, errors.rateLimited(), {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${scenario.retry_after_s ?? 1}s`,
        ...retryHeaders(scenario.retry_after_s, scenario.retry_after_ms),
      });
    case 'insufficient_quota':
      return x.sendJson(429, errors.insufficientQuota());
    case 'status':
      return x.sendJson(
        scenario.status,
        errors.errorForStatus(scenario.status, scenario.message),
        retryHeaders(scenario.retry_after_s),
      );
    case 'context_window': {
      const limit = scenario.limit ?? 4096;
      const tokens = Math.max(limit + 1, Math.round(JSON.stringify(req.body['messages'] ?? []).length / 4));
      return x.sendJson(400, errors.contextLengthExceeded(limit, tokens));
    }
    case 'content_filter':
      return x.sendJson(400, errors.contentFiltered(), { 'apim-request-id': x.requestId });
    case 'invalid_request':
      return x.sendJson(400, errors.invalidTemperature());
    case 'unsupported_parameter':
      return x.sendJson(400, errors.unsupportedParameter());
    case 'auth_error':
      return x.sendJson(401, errors.invalidApiKey(req.apiKey ?? 'sk-simulator-invalid-key'));
  }
}
