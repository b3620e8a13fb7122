import { z } from 'zod';
import type { EmbeddingRequest } from '../canonical/embeddings.js';
import type { ClientError } from '../engine/all-failed.js';
import { parseJsonRequest } from './json-request.js';

/** OpenAI's limit on inputs in one embeddings request. */
export const MAX_EMBEDDING_INPUTS = 2048;

const INPUT_SHAPES = 'a string, an array of strings, an array of token ids (integers) or an array of token-id arrays';

const tokenIds = z.array(z.number().int('token ids are integers').nonnegative('token ids are not negative')).min(1, 'a token array must not be empty');

/**
 * `input`: one non-empty string, or 1–2048 of them; or one non-empty token array, or 1–2048 of
 * them. Checked one shape after another so the error names the element at fault (`input[3]`).
 */
const input = z.unknown().superRefine((value, ctx) => {
  if (value === undefined) {
    ctx.addIssue({ code: 'invalid_type', expected: 'string', input: value, message: 'required' });
    return;
  }
  if (typeof value === 'string') {
    if (value.length === 0) ctx.addIssue({ code: 'custom', message: 'must not be an empty string' });
    return;
  }
  if (!Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `expected ${INPUT_SHAPES}` });
    return;
  }
  if (value.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must not be an empty array' });
    return;
  }
  if (value.length > MAX_EMBEDDING_INPUTS) {
    ctx.addIssue({ code: 'custom', message: `at most ${MAX_EMBEDDING_INPUTS} inputs are allowed in one request, got ${value.length}` });
    return;
  }
  const first: unknown = value[0];
  const element = typeof first === 'string' ? z.string().min(1, 'must not be an empty string') : typeof first === 'number' ? z.number().int().nonnegative() : tokenIds;
  for (const [i, item] of value.entries()) {
    const checked = element.safeParse(item);
    if (!checked.success) {
      const why = typeof first === 'string' || typeof first === 'number' || Array.isArray(first) ? checked.error.issues[0]?.message : `expected ${INPUT_SHAPES}`;
      ctx.addIssue({ code: 'custom', path: [i], message: `${why ?? 'invalid'} (every element must have the shape of the first)` });
      return;
    }
  }
});

const embeddingsRequest = z.looseObject({
  model: z.string().min(1, 'must not be empty'),
  input,
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
  fallback_models: z.array(z.string().min(1)).optional(),
});

export type ParsedEmbeddings = { ok: true; request: EmbeddingRequest } | { ok: false; error: ClientError };

/** Parses a JSON body into an EmbeddingRequest, or a 400 in OpenAI's style naming the parameter. Unknown fields are kept. */
export function parseEmbeddingsRequest(body: Buffer): ParsedEmbeddings {
  const parsed = parseJsonRequest(body, embeddingsRequest);
  return parsed.ok ? { ok: true, request: parsed.value as EmbeddingRequest } : parsed;
}
