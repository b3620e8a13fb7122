import type { EmbeddingRequest, EmbeddingResponse } from '../canonical/embeddings.js';

/** What an embeddings target accepts, beyond text. The engine skips a target that cannot take a request. */
export interface EmbeddingCapabilities {
  /** Token-array input (`input: number[] | number[][]`): OpenAI-wire only. */
  tokenInput: boolean;
  /** Most inputs in one request (OpenAI 2048; Gemini's batchEmbedContents 100). */
  maxInputs: number;
}

export interface EmbedOptions {
  signal: AbortSignal;
  /** Extra request headers for this target (per-model config); never replace the adapter's auth headers. */
  headers?: Record<string, string>;
}

/** An upstream embeddings call whose response headers have arrived with a success status. */
export interface EmbeddingCall {
  status: number;
  /** Selected upstream response headers (rate-limit headers, request ids). */
  headers: Record<string, string>;
  /** Reads and translates the body. Rejects with an `UpstreamFailure` (cut body, malformed JSON). */
  response(): Promise<EmbeddingResponse>;
  /** Request parameters the target has no equivalent for and that were dropped (harmless ones only). */
  droppedParams?: string[];
}

/**
 * One embedding model at one provider. A separate seam from the chat `Target` on purpose: a
 * provider without an embeddings API (Anthropic) simply has none, chat targets and their
 * wrappers stay as they are, and the engine's ladder walk needs only `id` and `model` of either.
 */
export interface EmbeddingTarget {
  /** `provider/model`, as shown to clients and operators. */
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  readonly capabilities: EmbeddingCapabilities;
  /** Resolves when response headers arrived with a success status; rejects with an `UpstreamFailure`. */
  embed(request: EmbeddingRequest, options: EmbedOptions): Promise<EmbeddingCall>;
}

/** A target whose calls carry extra headers (per-model `request.headers` config). */
export function withEmbeddingHeaders(target: EmbeddingTarget, headers: Record<string, string>): EmbeddingTarget {
  return {
    id: target.id,
    provider: target.provider,
    model: target.model,
    capabilities: target.capabilities,
    embed: (request, options) => target.embed(request, { ...options, headers: { ...options.headers, ...headers } }),
  };
}
