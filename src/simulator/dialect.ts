import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Continuing } from './continuing.js';

/**
 * One source of truth for what the simulated model does (scenario → `Answer` / `SimError` / stream
 * interruption), and one small "dialect" per wire format that turns those into bytes.
 * `behaviours.ts` drives any dialect; a dialect never decides *what* happens, only how it looks.
 */

export type Format = 'openai' | 'anthropic' | 'gemini';

/** A function tool offered by the request, in any format. */
export interface ToolSpec {
  name: string;
  /** JSON Schema (or Gemini OpenAPI-subset schema) of the arguments; undefined when not given. */
  parameters: unknown;
}

/** What the simulator knows about one parsed model request, whatever its format. */
export interface SimRequest {
  format: Format;
  model: string;
  stream: boolean;
  body: Record<string, unknown>;
  /** Key the client sent in this format's auth slot, if any. */
  apiKey: string | undefined;
  /** Prompt size in characters as the format counts it (messages / contents JSON). */
  promptChars: number;
  tools: ToolSpec[];
  /** Set when the request forces a tool call; `name` when it names the tool. */
  forcedTool: { name?: string } | undefined;
  /** Set when the request asks for JSON output; `schema` when it gives one. */
  json: { schema?: unknown } | undefined;
  /** OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
  /** The request hands over a partial answer to continue (continuing.ts). */
  continuing?: Continuing | undefined;
}

/** A tool call the model makes. */
export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** What the model says: text, optionally followed by one tool call, or a refusal / blocked prompt. */
export type Answer =
  | { kind: 'message'; text: string; toolCall?: ToolCall }
  /** Content filter expressed as a 200 (Anthropic `stop_reason: refusal`, Gemini `promptFeedback.blockReason`). */
  | { kind: 'refusal' };

/** Every error the simulator can answer with, format-neutral. Dialects give each its wire body. */
export type SimError =
  | { kind: 'rate_limit'; retryAfterS?: number; retryAfterMs?: number }
  | { kind: 'insufficient_quota' }
  | { kind: 'status'; status: number; message?: string; retryAfterS?: number }
  | { kind: 'context_window'; limit: number; tokens: number }
  | { kind: 'content_filter' }
  | { kind: 'invalid_request' }
  | { kind: 'unsupported_parameter' }
  | { kind: 'auth_error'; key: string | undefined }
  /** The simulator's own `apiKey` check failed (missing or wrong key). */
  | { kind: 'unauthorized'; key: string | undefined }
  | { kind: 'model_not_found'; model: string }
  | { kind: 'invalid_json' }
  | { kind: 'missing_model' }
  /** The request body misses a field the format requires (Anthropic `max_tokens`, Gemini `contents`). */
  | { kind: 'missing_field'; field: string }
  | { kind: 'invalid_url'; method: string; path: string };

/** A complete HTTP error reply (headers include content-type). */
export interface ErrorReply {
  status: number;
  body: string;
  headers: OutgoingHttpHeaders;
}

/** Serialized frames of one streamed answer. */
export interface StreamScript {
  /** Sent right after the headers (OpenAI role chunk; Anthropic message_start, block start, ping). */
  head: string[];
  /** The countable content chunks; delays and interruptions fall between them. */
  chunks: string[];
  /** After the last chunk: finish, usage, terminator (only what a `complete` stream has). */
  tail: string[];
}

/** One frame of a stream being assembled: structural (block start/stop, finish…) or a countable content chunk. */
export interface Frame {
  data: string;
  countable: boolean;
}

/**
 * Groups frames into a script: structural frames before the first countable one form the head,
 * structural frames between countable ones travel with the next countable one, the rest is the tail.
 */
export function scriptOf(frames: Frame[]): StreamScript {
  const head: string[] = [];
  const chunks: string[] = [];
  let pending: string[] = [];
  for (const f of frames) {
    if (!f.countable) {
      pending.push(f.data);
      continue;
    }
    if (chunks.length === 0) head.push(...pending);
    const prefix = chunks.length === 0 ? '' : pending.join('');
    chunks.push(prefix + f.data);
    pending = [];
  }
  if (chunks.length === 0) return { head: pending, chunks: [], tail: [] };
  return { head, chunks, tail: pending };
}

export interface StreamOptions {
  /** Text pieces, one per content chunk. */
  pieces: string[];
  /** false: omit the end-of-stream marker (`[DONE]`, `message_stop`, Gemini's `finishReason`). */
  complete: boolean;
}

export interface ErrorContext {
  /** The exchange's request id (echoed in Anthropic bodies, Azure's `apim-request-id`). */
  requestId: string;
  stream: boolean;
  /** The requested model, when known. */
  model: string | undefined;
}

/** Format-specific request fields, read once per request. */
export type RequestFeatures = Pick<SimRequest, 'promptChars' | 'tools' | 'forcedTool' | 'json' | 'includeUsage' | 'continuing'>;

export interface Dialect {
  readonly format: Format;
  /** Content type of SSE replies. */
  readonly streamContentType: string;
  /** Content type of JSON replies. */
  readonly jsonContentType: string;
  /** true: `content_filter` is an HTTP error (Azure OpenAI); false: a 200 refusal. */
  readonly contentFilterIsError: boolean;

  newRequestId(): string;
  /** Headers every reply of this format carries. */
  baseHeaders(requestId: string, elapsedMs: number): OutgoingHttpHeaders;
  /** The key the client sent in this format's auth slot. */
  apiKey(req: IncomingMessage, url: URL): string | undefined;
  /** A required body field that is missing, if any. */
  missingField(body: Record<string, unknown>): string | undefined;
  features(body: Record<string, unknown>): RequestFeatures;

  /** The serialized non-streaming response. */
  message(req: SimRequest, answer: Answer): string;
  stream(req: SimRequest, answer: Answer, opts: StreamOptions): StreamScript;
  /** The stream's in-band error event for `status`, after which the stream ends. */
  streamError(status: number, message: string | undefined): string;
  /** A stream frame whose JSON is cut off. */
  readonly malformedFrame: string;
  /** A non-stream body whose JSON is cut off. */
  readonly malformedBody: string;
  error(e: SimError, ctx: ErrorContext): ErrorReply;
}
