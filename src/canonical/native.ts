import type { ChatChunk, ChatRequest, ChatResponse } from './chat.js';

/**
 * Same-format pass-through. When a client speaks a provider's own wire format and the target
 * speaks it too, the translation through the canonical shape would lose what that shape cannot
 * hold (cache_control, signed thinking blocks, server tools, citations). So the client's own body
 * travels beside the canonical request, and the upstream's own events and message travel beside
 * the canonical chunks and response: the canonical values still drive the engine (watchdogs,
 * commit point, records), the native ones are what the client receives.
 *
 * They are kept out of the objects themselves (no field that could leak into another format's
 * request) in weak maps: a copy of the request (e.g. after per-target overrides) has none, and is
 * translated normally.
 */
export type NativeFormat = 'anthropic';

export interface NativeRequest {
  format: NativeFormat;
  /** The client's request body exactly as parsed. */
  body: Record<string, unknown>;
}

const requests = new WeakMap<ChatRequest, NativeRequest>();
const chunkTexts = new WeakMap<ChatChunk, string>();
const messages = new WeakMap<ChatResponse, unknown>();

export function attachNativeRequest(request: ChatRequest, native: NativeRequest): ChatRequest {
  requests.set(request, native);
  return request;
}

export function nativeRequest(request: ChatRequest): NativeRequest | undefined {
  return requests.get(request);
}

/** The upstream's own stream text (whole SSE events) that produced this chunk. */
export function attachNativeText(chunk: ChatChunk, text: string): void {
  chunkTexts.set(chunk, text);
}

export function nativeText(chunk: ChatChunk): string | undefined {
  return chunkTexts.get(chunk);
}

const continued = new WeakSet<ChatChunk>();

/**
 * Marks a chunk written by a target that continues another's failed stream (mid-stream
 * continuation). An encoder relaying a native stream switches to writing its own events from here
 * on, inside the native stream's open block.
 */
export function markContinued(chunk: ChatChunk): ChatChunk {
  continued.add(chunk);
  return chunk;
}

export function isContinued(chunk: ChatChunk): boolean {
  return continued.has(chunk);
}

/** The upstream's own message behind this canonical response. */
export function attachNativeMessage(response: ChatResponse, message: unknown): ChatResponse {
  messages.set(response, message);
  return response;
}

export function nativeMessage(response: ChatResponse): unknown {
  return messages.get(response);
}
