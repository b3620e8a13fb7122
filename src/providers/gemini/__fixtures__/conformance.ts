/**
 * Test helpers over ../shared/conformance for the Gemini adapter: the recordings, the STRICT
 * Gemini request schema, OpenAI's chunk/response schemas (what we produce), and the stream
 * parser run to completion over a body split into pieces.
 */
import { readFileSync, readdirSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { ChatChunk, ChatResponse } from '../../../canonical/chat.js';
import { ChunkAssembler } from '../../../canonical/chunks.js';
import { isUpstreamFailure, type FailureDetails } from '../../../canonical/failure.js';
import type { UpstreamEvent } from '../../target.js';
import { parseGeminiStream } from '../stream.js';

export const CONFORMANCE = new URL('../../../../../shared/conformance/', import.meta.url);
export const RECORDINGS = 'gemini/js-genai-recordings';

const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;
const load = (path: string) => JSON.parse(readFileSync(new URL(path, CONFORMANCE), 'utf8')) as { $id: string };
const strictGemini = load('gemini/gemini-v1beta.strict.schema.json');
const openGemini = load('gemini/gemini-v1beta.schema.json');
const openai = load('openai-chat.schema.json');
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
ajv.addSchema(strictGemini);
ajv.addSchema(openGemini);
ajv.addSchema(openai);

function validator(schema: { $id: string }, name: string): (value: unknown) => string[] {
  const fn: ValidateFunction | undefined = ajv.getSchema(`${schema.$id}#/$defs/${name}`);
  if (!fn) throw new Error(`no schema definition ${name}`);
  return (value) => (fn(value) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
}

/** Errors of a request body against the STRICT GenerateContentRequest (unknown fields rejected). */
export const geminiRequestErrors = validator(strictGemini, 'GenerateContentRequest');
/** Errors of a response / stream chunk against the open GenerateContentResponse. */
export const geminiResponseErrors = validator(openGemini, 'GenerateContentResponse');
export const geminiErrorEnvelopeErrors = validator(openGemini, 'ErrorResponse');
export const openaiChunkErrors = validator(openai, 'CreateChatCompletionStreamResponse');
export const openaiResponseErrors = validator(openai, 'CreateChatCompletionResponse');

export function fixture(path: string): string {
  return readFileSync(new URL(`fixtures/${path}`, CONFORMANCE), 'utf8');
}

export function fixtureJson<T = unknown>(path: string): T {
  return JSON.parse(fixture(path)) as T;
}

/** The files of one fixtures folder ending in `suffix`, as `folder/name`. */
export function fixtureFiles(folder: string, suffix: string): string[] {
  return readdirSync(new URL(`fixtures/${folder}/`, CONFORMANCE))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => `${folder}/${f}`);
}

/** A `.chunks.txt` recording (one GenerateContentResponse per line) as the alt=sse body it came from. */
export function chunksToSse(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `data: ${l}\r\n\r\n`)
    .join('');
}

/** The GenerateContentResponse payloads of an SSE body (for computing what a recording says). */
export function sseEvents(sse: string): Record<string, unknown>[] {
  return sse
    .split(/\r?\n\r?\n/)
    .map((block) => block.trim())
    .filter((block) => block.startsWith('data:'))
    .map((block) => JSON.parse(block.slice(5)) as Record<string, unknown>);
}

export async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export const CTX = { model: 'requested-model', created: 1_700_000_000 };

/** Every event of an SSE body through parseGeminiStream, fed `size` bytes at a time. */
export async function parseAll(sse: string, size = 1 << 20): Promise<UpstreamEvent[]> {
  const events: UpstreamEvent[] = [];
  for await (const event of parseGeminiStream(pieces(sse, size), CTX, ['AIzaSyTHISISNOTAREALKEY000000000000'])) events.push(event);
  return events;
}

/** The events before the failure, and the failure (or undefined when the stream completed). */
export async function parseUntilFailure(sse: string, size = 1 << 20): Promise<{ events: UpstreamEvent[]; failure?: FailureDetails }> {
  const events: UpstreamEvent[] = [];
  try {
    for await (const event of parseGeminiStream(pieces(sse, size), CTX, ['AIzaSyTHISISNOTAREALKEY000000000000'])) events.push(event);
  } catch (error) {
    if (isUpstreamFailure(error)) return { events, failure: error.details };
    throw error;
  }
  return { events };
}

export function chunksOf(events: UpstreamEvent[]): ChatChunk[] {
  return events.flatMap((e) => (e.type === 'chunk' ? [e.chunk] : []));
}

export function assemble(chunks: ChatChunk[]): ChatResponse {
  const assembler = new ChunkAssembler();
  for (const chunk of chunks) assembler.add(chunk);
  return assembler.result();
}
