import { describe, expect, it } from 'vitest';
import { isUpstreamFailure } from '../../canonical/failure.js';
import { geminiBatchRequestErrors, geminiEmbedRequestErrors } from '../__fixtures__/embedding-schemas.js';
import { parseGeminiEmbeddings, toGeminiEmbedRequest } from './embeddings.js';

function failure(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (isUpstreamFailure(error)) return error.details;
    throw error;
  }
  throw new Error('expected an UpstreamFailure');
}

describe('Gemini embeddings translation', () => {
  it('one input → embedContent with outputDimensionality', () => {
    expect(toGeminiEmbedRequest({ model: 'r', input: ['hello'], dimensions: 256 }, 'gemini-embedding-001')).toEqual({
      method: 'embedContent',
      body: { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hello' }] }, outputDimensionality: 256 },
      droppedParams: [],
    });
    expect(geminiEmbedRequestErrors(toGeminiEmbedRequest({ model: 'r', input: 'x', dimensions: 8 }, 'm').body)).toEqual([]);
  });

  it('several inputs → batchEmbedContents, one request per input; `user` dropped and reported', () => {
    expect(toGeminiEmbedRequest({ model: 'r', input: ['a', 'b'], user: 'u', encoding_format: 'base64', fallback_models: [] }, 'tunedModels/mine')).toEqual({
      method: 'batchEmbedContents',
      body: {
        requests: [
          { model: 'tunedModels/mine', content: { parts: [{ text: 'a' }] } },
          { model: 'tunedModels/mine', content: { parts: [{ text: 'b' }] } },
        ],
      },
      droppedParams: ['user'],
    });
    expect(geminiBatchRequestErrors(toGeminiEmbedRequest({ model: 'r', input: ['a', 'b'], dimensions: 8 }, 'm').body)).toEqual([]);
  });

  it('token input and unknown fields have no Gemini equivalent: unsupported_parameter before any call', () => {
    expect(failure(() => toGeminiEmbedRequest({ model: 'r', input: [1, 2] }, 'm'))).toMatchObject({ kind: 'unsupported_parameter' });
    expect(failure(() => toGeminiEmbedRequest({ model: 'r', input: 'x', input_type: 'query' }, 'm')).message).toContain("'input_type'");
  });

  it('reads embedContent and batchEmbedContents answers; usage is estimated', () => {
    const one = parseGeminiEmbeddings('{"embedding":{"values":[0.1,0.2]}}', { model: 'r', input: 'abcdefgh' }, 'gemini-embedding-001', []);
    expect(one).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
      model: 'gemini-embedding-001',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
    const batch = parseGeminiEmbeddings('{"embeddings":[{"values":[1]},{"values":[2]}]}', { model: 'r', input: ['a', 'b'] }, 'm', []);
    expect(batch.data.map((d) => [d.index, d.embedding])).toEqual([
      [0, [1]],
      [1, [2]],
    ]);
  });

  it.each(['{}', '{"embeddings":[{"values":"x"}]}', '{"embedding":{}}', 'not json'])('%s is malformed', (text) => {
    expect(failure(() => parseGeminiEmbeddings(text, { model: 'r', input: 'a' }, 'm', []))).toMatchObject({ kind: 'malformed_response' });
  });
});
