/**
 * Canonical request/response types: the OpenAI chat-completions shape, strictly typed.
 * Every inbound API translates into these and every upstream adapter translates out of them.
 * Unknown fields a client sends are kept in `extra`-free passthrough (see ChatRequest's index
 * signature) so an OpenAI-wire upstream receives the request unchanged.
 */

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

export interface TextPart { type: 'text'; text: string }
export interface ImagePart { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
export interface OtherPart { type: string; [field: string]: unknown }
export type ContentPart = TextPart | ImagePart | OtherPart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  refusal?: string | null;
  [field: string]: unknown;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  tools?: unknown[];
  tool_choice?: unknown;
  response_format?: unknown;
  user?: string;
  /** Understudy extension: extends the ladder for this request (after live rungs, before degradation). */
  fallback_models?: string[];
  [field: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [field: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ResponseMessage {
  role: 'assistant';
  content: string | null;
  refusal?: string | null;
  tool_calls?: ToolCall[];
  [field: string]: unknown;
}

export interface ChatChoice {
  index: number;
  message: ResponseMessage;
  logprobs?: unknown;
  finish_reason: FinishReason | null;
  [field: string]: unknown;
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage | null;
  system_fingerprint?: string | null;
  [field: string]: unknown;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ToolCallDelta[];
  /** DeepSeek-style reasoning deltas; they count as output for the first-token watchdog. */
  reasoning_content?: string | null;
  [field: string]: unknown;
}

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  logprobs?: unknown;
  finish_reason?: FinishReason | null;
  [field: string]: unknown;
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
  system_fingerprint?: string | null;
  [field: string]: unknown;
}
