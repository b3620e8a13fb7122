/**
 * The Anthropic Messages API (`anthropic-version: 2023-06-01`) as far as Understudy uses it.
 * Types only. Shapes follow FACTS.md §2 and `conformance/anthropic/anthropic-messages.schema.json`.
 * Content the gateway does not translate (server tools, citations, compaction, …) is not typed
 * here: the decoder (`decode.ts`) reports it as "not ours" and the translators skip it.
 */

// ── Request ────────────────────────────────────────────────────────────────────────────────

export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextBlockParam {
  type: 'text';
  text: string;
  cache_control?: CacheControl;
}

export type ImageMediaType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

export type ImageSource = { type: 'base64'; media_type: ImageMediaType; data: string } | { type: 'url'; url: string };

export interface ImageBlockParam {
  type: 'image';
  source: ImageSource;
  cache_control?: CacheControl;
}

export type DocumentSource = { type: 'base64'; media_type: 'application/pdf'; data: string } | { type: 'url'; url: string };

export interface DocumentBlockParam {
  type: 'document';
  source: DocumentSource;
  cache_control?: CacheControl;
}

/** A JSON value as the API returns it in `tool_use.input`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ToolUseBlockParam {
  type: 'tool_use';
  id: string;
  name: string;
  input: JsonValue;
}

export interface ToolResultBlockParam {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | (TextBlockParam | ImageBlockParam)[];
  is_error?: boolean;
}

export interface ThinkingBlockParam {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface RedactedThinkingBlockParam {
  type: 'redacted_thinking';
  data: string;
}

export type ContentBlockParam =
  | TextBlockParam
  | ImageBlockParam
  | DocumentBlockParam
  | ToolUseBlockParam
  | ToolResultBlockParam
  | ThinkingBlockParam
  | RedactedThinkingBlockParam;

export interface MessageParam {
  role: 'user' | 'assistant';
  content: string | ContentBlockParam[];
}

/** JSON Schema of a tool's input; the API requires an object schema at the root. */
export interface InputSchema {
  type: 'object';
  [keyword: string]: unknown;
}

export interface Tool {
  name: string;
  description?: string;
  input_schema: InputSchema;
}

export type ToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export type ThinkingConfig = { type: 'enabled'; budget_tokens: number } | { type: 'disabled' } | { type: 'adaptive' };

export interface MessageCreateParams {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string | TextBlockParam[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  tools?: Tool[];
  tool_choice?: ToolChoice;
  metadata?: { user_id?: string };
  thinking?: ThinkingConfig;
  stream?: boolean;
}

// ── Response ───────────────────────────────────────────────────────────────────────────────

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: JsonValue;
}

export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

/** The response blocks Understudy translates. Others (server_tool_use, web_search_tool_result, …) are skipped. */
export type ContentBlock = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock;

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** Newer API versions: thinking tokens inside `output_tokens`. */
  output_tokens_details?: { thinking_tokens?: number } | null;
}

/** `stop_details` (current API): why a refusal happened. */
export interface StopDetails {
  type: string;
  category?: string | null;
  explanation?: string | null;
}

export interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  stop_details?: StopDetails | null;
  usage: Usage;
}

// ── Stream ─────────────────────────────────────────────────────────────────────────────────

export type ContentBlockDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string };

/** Cumulative usage in `message_delta` (any field may be absent; newer APIs repeat input counts). */
export type MessageDeltaUsage = Partial<Usage>;

export type StreamEvent =
  | { type: 'message_start'; message: Message }
  /** `content_block` is undefined for a block type Understudy does not translate. */
  | { type: 'content_block_start'; index: number; content_block: ContentBlock | undefined }
  /** `delta` is undefined for a delta type Understudy does not translate (e.g. `citations_delta`). */
  | { type: 'content_block_delta'; index: number; delta: ContentBlockDelta | undefined }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: StopReason | null; stop_sequence?: string | null; stop_details?: StopDetails | null };
      usage: MessageDeltaUsage;
    }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: ApiError };

// ── Errors ─────────────────────────────────────────────────────────────────────────────────

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'billing_error'
  | 'conflict_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

export interface ApiError {
  /** One of `ErrorType` in practice; kept open because the API may add types. */
  type: string;
  message: string;
}

export interface ErrorResponse {
  type: 'error';
  error: ApiError;
  request_id?: string | null;
}
