/**
 * Validators for embeddings payloads over ../shared/conformance: OpenAI's CreateEmbeddingRequest /
 * CreateEmbeddingResponse, and Gemini's (STRICT, unknown fields rejected) embedContent and
 * batchEmbedContents requests with their open responses.
 */
import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

export const CONFORMANCE = new URL('../../../../shared/conformance/', import.meta.url);

const load = (path: string) => JSON.parse(readFileSync(new URL(path, CONFORMANCE), 'utf8')) as { $id: string };
const openai = load('openai-chat.schema.json');
const strictGemini = load('gemini/gemini-v1beta.strict.schema.json');
const openGemini = load('gemini/gemini-v1beta.schema.json');
const ajv = new Ajv2020Module.default({ allErrors: true, strict: true, strictTypes: false });
addFormatsModule.default(ajv);
ajv.addSchema(openai);
ajv.addSchema(strictGemini);
ajv.addSchema(openGemini);

function validator(schema: { $id: string }, name: string): (value: unknown) => string[] {
  const fn: ValidateFunction | undefined = ajv.getSchema(`${schema.$id}#/$defs/${name}`);
  if (!fn) throw new Error(`no schema definition ${name}`);
  return (value) => (fn(value) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
}

export const openaiEmbeddingRequestErrors = validator(openai, 'CreateEmbeddingRequest');
export const openaiEmbeddingResponseErrors = validator(openai, 'CreateEmbeddingResponse');
export const geminiEmbedRequestErrors = validator(strictGemini, 'EmbedContentRequest');
export const geminiBatchRequestErrors = validator(strictGemini, 'BatchEmbedContentsRequest');
export const geminiEmbedResponseErrors = validator(openGemini, 'EmbedContentResponse');
export const geminiBatchResponseErrors = validator(openGemini, 'BatchEmbedContentsResponse');

export function fixture(path: string): string {
  return readFileSync(new URL(`fixtures/${path}`, CONFORMANCE), 'utf8');
}
