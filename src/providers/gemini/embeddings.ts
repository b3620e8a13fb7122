import { UpstreamFailure } from '../../canonical/failure.js';
import { embeddingInputs, estimateEmbeddingTokens, type EmbeddingRequest, type EmbeddingResponse } from '../../canonical/embeddings.js';
import { malformedEmbeddings, parseEmbeddingsJson, readVector } from '../embedding-body.js';
import type { EmbeddingCapabilities } from '../embedding-target.js';

/** Text only; `batchEmbedContents` takes at most 100 requests. */
export const GEMINI_EMBEDDING_CAPABILITIES: EmbeddingCapabilities = { tokenInput: false, maxInputs: 100 };

/** Request fields with a Gemini equivalent, or harmless to drop (`user`). */
const KNOWN = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user', 'fallback_models']);

export interface GeminiEmbedRequest {
  method: 'embedContent' | 'batchEmbedContents';
  body: Record<string, unknown>;
  droppedParams: string[];
}

/** `gemini-embedding-001` → `models/gemini-embedding-001`; a full resource name (`tunedModels/x`) is kept. */
export function resourceName(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

/**
 * One text → `:embedContent {content, outputDimensionality?}`; several → `:batchEmbedContents
 * {requests:[{model, content, outputDimensionality?}]}`. Token-array input and unknown fields have
 * no Gemini equivalent (an unknown field such as an input type may change the vectors), so they
 * fail as `unsupported_parameter` before any call; `user` is dropped and reported.
 */
export function toGeminiEmbedRequest(request: EmbeddingRequest, model: string): GeminiEmbedRequest {
  const inputs = embeddingInputs(request.input);
  if (inputs.type === 'tokens') throw unsupported('token-array input has no Gemini equivalent; send text');
  const unknown = Object.keys(request).filter((key) => !KNOWN.has(key) && request[key] !== undefined);
  if (unknown.length > 0) throw unsupported(`no Gemini equivalent for ${unknown.map((k) => `'${k}'`).join(', ')}`);
  const dims = typeof request.dimensions === 'number' ? { outputDimensionality: request.dimensions } : {};
  const droppedParams = request.user !== undefined ? ['user'] : [];
  const content = (text: string): Record<string, unknown> => ({ parts: [{ text }] });
  if (inputs.texts.length === 1) {
    return { method: 'embedContent', body: { model: resourceName(model), content: content(inputs.texts[0] as string), ...dims }, droppedParams };
  }
  const requests = inputs.texts.map((text) => ({ model: resourceName(model), content: content(text), ...dims }));
  return { method: 'batchEmbedContents', body: { requests }, droppedParams };
}

/** `{embedding:{values}}` (one) or `{embeddings:[{values}]}` (batch) → the canonical response; usage is estimated (Gemini reports none). */
export function parseGeminiEmbeddings(text: string, request: EmbeddingRequest, model: string, secrets: readonly string[]): EmbeddingResponse {
  const body = parseEmbeddingsJson(text, secrets);
  const items: unknown[] = Array.isArray(body.embeddings) ? body.embeddings : body.embedding !== undefined ? [body.embedding] : [];
  if (items.length === 0) throw malformedEmbeddings('not_embeddings', 'upstream body has neither embedding nor embeddings');
  const data = items.map((item, index) => {
    const vector = readVector((item as { values?: unknown } | null)?.values, false);
    if (!vector) throw malformedEmbeddings('not_embeddings', `embedding ${index} has no values`);
    return { object: 'embedding' as const, index, embedding: vector };
  });
  const tokens = estimateEmbeddingTokens(embeddingInputs(request.input));
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function unsupported(message: string): UpstreamFailure {
  return new UpstreamFailure({ kind: 'unsupported_parameter', code: 'unsupported_parameter', message });
}
