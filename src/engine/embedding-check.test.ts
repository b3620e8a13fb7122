import { describe, expect, it } from 'vitest';
import type { EmbeddingRequest, EmbeddingResponse } from '../canonical/embeddings.js';
import { cannotEmbed, embeddingProblem } from './embedding-check.js';

function response(...vectors: number[][]): EmbeddingResponse {
  return { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } };
}

const two: EmbeddingRequest = { model: 'r', input: ['a', 'b'] };

describe('embedding checks', () => {
  it.each([
    ['serves one vector per input', two, response([1, 0], [0, 1]), undefined],
    ['too few vectors', two, response([1, 0]), 'vector_count'],
    ['an empty vector', two, response([], []), 'empty_vector'],
    ['vectors of different lengths', two, response([1, 0], [1]), 'vector_length'],
    ['a target that ignored dimensions', { ...two, dimensions: 3 }, response([1, 0], [0, 1]), 'dimensions'],
    ['the asked dimensions', { ...two, dimensions: 2 }, response([1, 0], [0, 1]), undefined],
  ] as [string, EmbeddingRequest, EmbeddingResponse, string | undefined][])('%s', (_name, request, answer, code) => {
    expect(embeddingProblem(request, answer)?.code).toBe(code);
  });

  it('indices must be 0..n-1 in order', () => {
    const swapped = response([1], [2]);
    (swapped.data[0] as { index: number }).index = 1;
    expect(embeddingProblem(two, swapped)).toMatchObject({ kind: 'malformed_response', code: 'vector_index' });
  });

  it('a target that takes text only, or fewer inputs, cannot serve', () => {
    const gemini = { tokenInput: false, maxInputs: 2 };
    expect(cannotEmbed(two, gemini)).toBeUndefined();
    expect(cannotEmbed({ model: 'r', input: [5, 6] }, gemini)).toMatch(/token arrays/);
    expect(cannotEmbed({ model: 'r', input: ['a', 'b', 'c'] }, gemini)).toMatch(/3 inputs; this target takes at most 2/);
  });
});
