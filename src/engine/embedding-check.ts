import { embeddingInputs, inputCount, type EmbeddingRequest, type EmbeddingResponse } from '../canonical/embeddings.js';
import type { FailureDetails } from '../canonical/failure.js';
import type { EmbeddingCapabilities } from '../providers/embedding-target.js';

/** Why an embeddings target cannot take this request (it is skipped, not called), or undefined. Pure. */
export function cannotEmbed(request: EmbeddingRequest, capabilities: EmbeddingCapabilities): string | undefined {
  const inputs = embeddingInputs(request.input);
  if (inputs.type === 'tokens' && !capabilities.tokenInput) return 'the request sends token arrays and this target takes text only';
  const count = inputCount(inputs);
  if (count > capabilities.maxInputs) return `the request has ${count} inputs; this target takes at most ${capabilities.maxInputs}`;
  return undefined;
}

/**
 * Why a response cannot be served, or undefined. Pure. Served vectors must be usable as an index
 * entry: one per input in input order, all the same non-zero length, and exactly `dimensions`
 * long when the request asks for a length (a target that ignored it answered in another space).
 */
export function embeddingProblem(request: EmbeddingRequest, response: EmbeddingResponse): FailureDetails | undefined {
  const expected = inputCount(embeddingInputs(request.input));
  const data = response.data;
  if (data.length !== expected) {
    return { kind: 'malformed_response', code: 'vector_count', message: `${expected} input(s) but ${data.length} vector(s) came back` };
  }
  const index = data.findIndex((item, i) => item.index !== i);
  if (index >= 0) return { kind: 'malformed_response', code: 'vector_index', message: `vector indices are not 0..${expected - 1} (position ${index})` };
  const length = data[0]?.embedding.length ?? 0;
  if (length === 0) return { kind: 'empty_output', code: 'empty_vector', message: 'the upstream returned an empty vector' };
  const odd = data.find((item) => item.embedding.length !== length);
  if (odd) return { kind: 'malformed_response', code: 'vector_length', message: `vectors of different lengths (${length} and ${odd.embedding.length})` };
  if (typeof request.dimensions === 'number' && length !== request.dimensions) {
    return {
      kind: 'unsupported_parameter',
      code: 'dimensions',
      message: `asked for ${request.dimensions} dimensions and got ${length}: this target does not honour 'dimensions'`,
    };
  }
  return undefined;
}
