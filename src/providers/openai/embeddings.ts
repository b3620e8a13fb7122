import { embeddingInputs, estimateEmbeddingTokens, type Embedding, type EmbeddingRequest, type EmbeddingResponse } from '../../canonical/embeddings.js';
import { malformedEmbeddings, parseEmbeddingsJson, readVector } from '../embedding-body.js';
import type { EmbeddingCapabilities } from '../embedding-target.js';

/** OpenAI's limit on inputs per request; OpenAI-compatible servers take at least as many in practice. */
export const OPENAI_EMBEDDING_CAPABILITIES: EmbeddingCapabilities = { tokenInput: true, maxInputs: 2048 };

/**
 * The upstream body: the client's request with the target's model. `encoding_format` is left out
 * so every server answers in floats (its default; not every OpenAI-compatible server speaks
 * base64); the gateway encodes base64 for the client itself. Unknown fields pass through.
 */
export function toOpenAIEmbeddingsBody(request: EmbeddingRequest, model: string): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request, model };
  delete body.fallback_models;
  delete body.encoding_format;
  return body;
}

/**
 * `{object:'list', data:[{object:'embedding', index, embedding}], model, usage}` → the canonical
 * response, data in index order. A vector in base64 is decoded; missing usage is estimated from
 * the request's input; a missing `model` is the target's.
 */
export function parseOpenAIEmbeddings(text: string, request: EmbeddingRequest, model: string, secrets: readonly string[]): EmbeddingResponse {
  const body = parseEmbeddingsJson(text, secrets);
  if (!Array.isArray(body.data)) throw malformedEmbeddings('not_embeddings', 'upstream body has no data array');
  const data: Embedding[] = body.data.map((item: unknown, position: number) => {
    const entry = (typeof item === 'object' && item !== null ? item : {}) as { index?: unknown; embedding?: unknown };
    const vector = readVector(entry.embedding, true);
    if (!vector) throw malformedEmbeddings('not_embeddings', `data[${position}].embedding is not a vector`);
    const index = typeof entry.index === 'number' ? entry.index : position;
    return { object: 'embedding', index, embedding: vector };
  });
  data.sort((a, b) => a.index - b.index);
  const usage = (typeof body.usage === 'object' && body.usage !== null ? body.usage : {}) as { prompt_tokens?: unknown; total_tokens?: unknown };
  const estimated = estimateEmbeddingTokens(embeddingInputs(request.input));
  const prompt = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : estimated;
  return {
    object: 'list',
    data,
    model: typeof body.model === 'string' && body.model !== '' ? body.model : model,
    usage: { prompt_tokens: prompt, total_tokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : prompt },
  };
}
