import type { ChatChunk, ChatRequest, ChatResponse } from '../canonical/chat.js';
import type { RequestFault } from './fault-injection.js';

/**
 * What one upstream call yields, in order. A streaming upstream yields chunks; a non-streaming
 * one yields a single response. Keep-alives are reported so watchdogs can ignore them honestly.
 * Failures are thrown as `UpstreamFailure` (already classified).
 */
export type UpstreamEvent =
  | { type: 'chunk'; chunk: ChatChunk }
  | { type: 'response'; response: ChatResponse }
  | { type: 'keepalive' };

export interface UpstreamCall {
  /** HTTP status of the upstream response (200 when events follow). */
  status: number;
  /** Selected upstream response headers (rate-limit headers, request ids). */
  headers: Record<string, string>;
  events: AsyncIterable<UpstreamEvent>;
  /** Request parameters the target has no equivalent for and that were dropped (harmless ones only). */
  droppedParams?: string[];
}

/**
 * What a target can do, declared by its adapter (per provider type and model) and overridable in
 * config. The engine skips targets that cannot serve a request instead of failing on them.
 */
export interface Capabilities {
  tools: boolean;
  /** `response_format: json_schema` (structured output) honoured natively. */
  jsonSchema: boolean;
  vision: boolean;
  /** Accepts a trailing assistant message as a prefix to continue (assistant prefill). */
  prefill: boolean;
  /** Context window in tokens; undefined when unknown (never a reason to skip). */
  maxContextTokens?: number;
  /** Largest completion in tokens; undefined when unknown. */
  maxOutputTokens?: number;
}

export interface CallOptions {
  signal: AbortSignal;
  /** The client wants a stream. An adapter may stream from upstream regardless (see `streamsUpstream`). */
  stream: boolean;
  /** Extra request headers for this target (per-target config); they never replace the adapter's auth headers. */
  headers?: Record<string, string>;
  /** A fault this request carries (admin-only `x-understudy-fault` header); honoured by the fault wrapper, ignored by adapters. */
  fault?: RequestFault | undefined;
}

/**
 * A target: one model at one provider. Anything with `call` can be a target: an HTTP adapter,
 * an in-process function, a hedged pair. `call` resolves when the upstream has committed to
 * an answer (response headers received, status checked) and rejects with an `UpstreamFailure`.
 */
export interface Target {
  /** `provider/model`, as shown to clients and operators. */
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  readonly capabilities: Capabilities;
  /** Whether a call for this request streams from upstream (so headers arrive before generation). */
  streamsUpstream(stream: boolean): boolean;
  call(request: ChatRequest, options: CallOptions): Promise<UpstreamCall>;
}
