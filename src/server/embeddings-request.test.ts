import { describe, expect, it } from 'vitest';
import { decodeFloat32Base64 } from '../canonical/float32-base64.js';
import { openaiEmbeddingResponseErrors } from '../providers/__fixtures__/embedding-schemas.js';
import { MAX_EMBEDDING_INPUTS, parseEmbeddingsRequest } from './embeddings-request.js';
import { embeddingsResponseBody } from './embeddings-response.js';

const parse = (body: unknown) => parseEmbeddingsRequest(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));

describe('parseEmbeddingsRequest', () => {
  it.each([
    ['one string', 'hello'],
    ['strings', ['a', 'b']],
    ['one token array', [1, 2, 3]],
    ['token arrays', [[1, 2], [3]]],
  ])('accepts %s', (_name, input) => {
    const parsed = parse({ model: 'embed', input });
    expect(parsed).toEqual({ ok: true, request: { model: 'embed', input } });
  });

  it('keeps the optional fields and unknown ones (passed through to OpenAI-wire upstreams)', () => {
    const body = { model: 'm', input: 'x', encoding_format: 'base64', dimensions: 256, user: 'u', fallback_models: ['a/m'], input_type: 'query' };
    expect(parse(body)).toEqual({ ok: true, request: body });
  });

  it.each([
    [{ input: 'x' }, 'model', 'missing_required_parameter'],
    [{ model: 'm' }, 'input', 'missing_required_parameter'],
    [{ model: 'm', input: 42 }, 'input', 'invalid_value'],
    [{ model: 'm', input: '' }, 'input', 'invalid_value'],
    [{ model: 'm', input: [] }, 'input', 'invalid_value'],
    [{ model: 'm', input: ['a', ''] }, 'input[1]', 'invalid_value'],
    [{ model: 'm', input: ['a', 1] }, 'input[1]', 'invalid_value'],
    [{ model: 'm', input: [1, 2.5] }, 'input[1]', 'invalid_value'],
    [{ model: 'm', input: [1, -1] }, 'input[1]', 'invalid_value'],
    [{ model: 'm', input: [[1], []] }, 'input[1]', 'invalid_value'],
    [{ model: 'm', input: [{ text: 'a' }] }, 'input[0]', 'invalid_value'],
    [{ model: 'm', input: 'x', encoding_format: 'hex' }, 'encoding_format', 'invalid_value'],
    [{ model: 'm', input: 'x', dimensions: 1.5 }, 'dimensions', 'invalid_type'],
    [{ model: 'm', input: 'x', dimensions: -3 }, 'dimensions', 'invalid_value'],
    [{ model: 'm', input: 'x', fallback_models: 'a/b' }, 'fallback_models', 'invalid_type'],
  ])('rejects %j naming %s', (body, param, code) => {
    const parsed = parse(body);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatchObject({ status: 400, type: 'invalid_request_error', param, code });
  });

  it('rejects more inputs than OpenAI allows, and bodies that are not JSON objects', () => {
    const many = parse({ model: 'm', input: Array.from({ length: MAX_EMBEDDING_INPUTS + 1 }, () => 'x') });
    expect(many.ok ? undefined : many.error.message).toContain(`at most ${MAX_EMBEDDING_INPUTS} inputs`);
    expect(parse('{"model":').ok ? undefined : (parse('{"model":') as { error: { code: string } }).error.code).toBe('invalid_json');
    expect(parse([1]).ok ? undefined : (parse([1]) as { error: { code: string } }).error.code).toBe('invalid_json');
  });
});

describe('embeddingsResponseBody', () => {
  const response = {
    object: 'list' as const,
    data: [
      { object: 'embedding' as const, index: 0, embedding: [0.25, -0.5, 1] },
      { object: 'embedding' as const, index: 1, embedding: [Math.fround(0.1), 0, -1] },
    ],
    model: 'text-embedding-3-small',
    usage: { prompt_tokens: 3, total_tokens: 3 },
  };

  it('renders OpenAI’s shape with float vectors', () => {
    expect(JSON.parse(embeddingsResponseBody(response, 'float'))).toEqual(response);
    expect(openaiEmbeddingResponseErrors(JSON.parse(embeddingsResponseBody(response, 'float')))).toEqual([]);
  });

  it('renders base64 of float32 little-endian, which decodes to the same values', () => {
    const body = JSON.parse(embeddingsResponseBody(response, 'base64')) as { data: { embedding: string }[] };
    expect(body.data[0]?.embedding).toBe(Buffer.from(new Float32Array([0.25, -0.5, 1]).buffer).toString('base64'));
    expect(body.data.map((d) => decodeFloat32Base64(d.embedding))).toEqual(response.data.map((d) => d.embedding));
    expect(decodeFloat32Base64('AAA=')).toBeUndefined();
  });
});
