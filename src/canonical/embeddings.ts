/**
 * Canonical embeddings types: OpenAI's `POST /v1/embeddings` shape (FACTS §1). Vectors are always
 * held as numbers here; base64 is an encoding chosen at the edges (inbound response, upstream body).
 */

/** One text, many texts, one token array, or many token arrays. */
export type EmbeddingInput = string | string[] | number[] | number[][];

export interface EmbeddingRequest {
  model: string;
  input: EmbeddingInput;
  /** How the client wants vectors encoded in the response (default `float`). */
  encoding_format?: 'float' | 'base64';
  /** Shorten each vector to this many dimensions (models that support it). */
  dimensions?: number;
  user?: string;
  /** Understudy: more targets to try, each serving the same model (or a declared equivalent). */
  fallback_models?: string[];
  /** Anything else the client sent: passed through to OpenAI-wire upstreams untouched. */
  [field: string]: unknown;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  embedding: number[];
}

export interface EmbeddingResponse {
  object: 'list';
  data: Embedding[];
  /** The model that produced the vectors, as the upstream named it. */
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** The request's inputs as a list: texts, or token arrays (which only OpenAI-wire targets accept). */
export type EmbeddingInputs = { type: 'text'; texts: string[] } | { type: 'tokens'; tokens: number[][] };

export function embeddingInputs(input: EmbeddingInput): EmbeddingInputs {
  if (typeof input === 'string') return { type: 'text', texts: [input] };
  if (input.length === 0) return { type: 'text', texts: [] };
  if (typeof input[0] === 'number') return { type: 'tokens', tokens: [input as number[]] };
  if (Array.isArray(input[0])) return { type: 'tokens', tokens: input as number[][] };
  return { type: 'text', texts: input as string[] };
}

export function inputCount(inputs: EmbeddingInputs): number {
  return inputs.type === 'text' ? inputs.texts.length : inputs.tokens.length;
}

/**
 * Prompt tokens when a provider reports none (Gemini's embedContent, some OpenAI-compatible
 * servers): about four characters per token for text, the array length for token input. An
 * estimate (see docs/configuration.md, "Embeddings routes"), not the provider's own count.
 */
export function estimateEmbeddingTokens(inputs: EmbeddingInputs): number {
  if (inputs.type === 'tokens') return inputs.tokens.reduce((n, t) => n + t.length, 0);
  return inputs.texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
}
