import { describe, expect, it } from 'vitest';
import { isUpstreamFailure } from '../../canonical/failure.js';
import { fixture, openaiEmbeddingRequestErrors } from '../__fixtures__/embedding-schemas.js';
import { parseOpenAIEmbeddings, toOpenAIEmbeddingsBody } from './embeddings.js';

const request = { model: 'embed', input: ['hello world', 'hi'], dimensions: 2, user: 'u', encoding_format: 'base64' as const, fallback_models: ['x/y'], input_type: 'query' };

function failure(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (isUpstreamFailure(error)) return error.details;
    throw error;
  }
  throw new Error('expected an UpstreamFailure');
}

describe('OpenAI embeddings translation', () => {
  it('sends the client’s request with the target model, floats, no gateway fields', () => {
    expect(toOpenAIEmbeddingsBody(request, 'text-embedding-3-small')).toEqual({
      model: 'text-embedding-3-small',
      input: ['hello world', 'hi'],
      dimensions: 2,
      user: 'u',
      input_type: 'query',
    });
    const { input_type: _extra, ...plain } = request;
    expect(openaiEmbeddingRequestErrors(toOpenAIEmbeddingsBody(plain, 'text-embedding-3-small'))).toEqual([]);
  });

  it('reads a recorded OpenAI answer (vercel-ai fixture) unchanged', () => {
    const text = fixture('vercel-ai/openai/openai-embedding.json');
    const parsed = parseOpenAIEmbeddings(text, { model: 'r', input: ['sunny day at the beach', 'rainy day in the city'] }, 'text-embedding-3-small', []);
    expect(parsed).toEqual(JSON.parse(text));
  });

  it('reads data in index order, base64 or float, with the upstream’s usage and model', () => {
    const base64 = Buffer.from(new Float32Array([0.5, -0.25]).buffer).toString('base64');
    const body = JSON.stringify({
      object: 'list',
      data: [
        { object: 'embedding', index: 1, embedding: base64 },
        { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
      ],
      model: 'text-embedding-3-small-v2',
      usage: { prompt_tokens: 5, total_tokens: 5 },
    });
    expect(parseOpenAIEmbeddings(body, request, 'text-embedding-3-small', [])).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
        { object: 'embedding', index: 1, embedding: [0.5, -0.25] },
      ],
      model: 'text-embedding-3-small-v2',
      usage: { prompt_tokens: 5, total_tokens: 5 },
    });
  });

  it('estimates usage (≈4 characters a token) and names the target model when the server gives neither', () => {
    const body = JSON.stringify({ data: [{ embedding: [1] }, { embedding: [2] }] });
    const parsed = parseOpenAIEmbeddings(body, request, 'nomic-embed-text', []);
    expect(parsed.model).toBe('nomic-embed-text');
    expect(parsed.usage).toEqual({ prompt_tokens: 3 + 1, total_tokens: 4 });
    expect(parsed.data.map((d) => d.index)).toEqual([0, 1]);
  });

  it.each([
    ['<html>502 sk-secret-key-123456</html>', 'invalid_json'],
    ['[1,2]', 'not_embeddings'],
    ['{"object":"list"}', 'not_embeddings'],
    ['{"data":[{"embedding":[1,"x"]}]}', 'not_embeddings'],
    ['{"data":[{"embedding":null}]}', 'not_embeddings'],
  ])('%s is malformed (%s), and secrets never appear', (text, code) => {
    const details = failure(() => parseOpenAIEmbeddings(text, request, 'm', ['sk-secret-key-123456']));
    expect(details).toMatchObject({ kind: 'malformed_response', code });
    expect(details.message).not.toContain('sk-secret');
  });
});
