/**
 * Test helpers over ../shared/conformance: recorded payloads, OpenAI's JSON Schema (Ajv 2020 +
 * formats) and the stream parser run to completion. Shared by the OpenAI and Azure adapter tests.
 */
import { readFileSync, readdirSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { ChatChunk, ChatResponse } from '../../../canonical/chat.js';
import { ChunkAssembler } from '../../../canonical/chunks.js';
import type { UpstreamEvent } from '../../target.js';
import type { StreamNormaliserOptions } from '../normalise.js';
import { parseOpenAIStream } from '../stream.js';

export const CONFORMANCE = new URL('../../../../../shared/conformance/', import.meta.url);

const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

const schema = JSON.parse(readFileSync(new URL('openai-chat.schema.json', CONFORMANCE), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
ajv.addSchema(schema);

function definition(name: string): ValidateFunction {
  const fn = ajv.getSchema(`${schema.$id}#/$defs/${name}`);
  if (!fn) throw new Error(`no schema definition ${name}`);
  return fn;
}

const chunkSchema = definition('CreateChatCompletionStreamResponse');
const responseSchema = definition('CreateChatCompletionResponse');

/** Schema errors of a chunk (empty when valid). */
export function chunkErrors(chunk: unknown): string[] {
  return chunkSchema(chunk) ? [] : (chunkSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** Schema errors of a non-streaming body (empty when valid). */
export function responseErrors(body: unknown): string[] {
  return responseSchema(body) ? [] : (responseSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** Reads a file under ../shared/conformance/fixtures/. */
export function fixture(path: string): string {
  return readFileSync(new URL(`fixtures/${path}`, CONFORMANCE), 'utf8');
}

/** The files of one fixtures folder ending in `suffix`, as `folder/name`. */
export function fixtureFiles(folder: string, suffix: string): string[] {
  return readdirSync(new URL(`fixtures/${folder}/`, CONFORMANCE))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => `${folder}/${f}`);
}

/** A `.chunks.txt` recording (one chunk JSON per line) framed as the SSE body it came from. */
export function chunksToSse(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.map((l) => `data: ${l}\n\n`).join('') + 'data: [DONE]\n\n';
}

export async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Every event of an SSE body through the stream parser (and its normaliser). */
export async function parseAll(sse: string, normalisation?: StreamNormaliserOptions, size = 1 << 20): Promise<UpstreamEvent[]> {
  const events: UpstreamEvent[] = [];
  for await (const event of parseOpenAIStream(pieces(sse, size), [], normalisation)) events.push(event);
  return events;
}

export function chunksOf(events: UpstreamEvent[]): ChatChunk[] {
  return events.flatMap((e) => (e.type === 'chunk' ? [e.chunk] : []));
}

export function assemble(chunks: ChatChunk[]): ChatResponse {
  const assembler = new ChunkAssembler();
  for (const chunk of chunks) assembler.add(chunk);
  return assembler.result();
}

/**
 * The stream invariants of FACTS.md §1 a client may rely on: one id/created/model throughout;
 * a tool call's first delta carries id, type and name; one finish_reason per choice.
 */
export function streamProblems(chunks: ChatChunk[]): string[] {
  const problems: string[] = [];
  const first = chunks[0];
  const finished = new Set<number>();
  const seenCalls = new Set<string>();
  chunks.forEach((chunk, i) => {
    for (const error of chunkErrors(chunk)) problems.push(`chunk #${i}: ${error}`);
    if (first && (chunk.id !== first.id || chunk.created !== first.created || chunk.model !== first.model)) {
      problems.push(`chunk #${i}: identity differs from the first chunk`);
    }
    for (const choice of chunk.choices) {
      for (const call of choice.delta.tool_calls ?? []) {
        const key = `${choice.index}:${call.index}`;
        if (!seenCalls.has(key) && !(call.id && call.type === 'function' && call.function?.name)) {
          problems.push(`chunk #${i}: first delta of tool call ${key} lacks id/type/name`);
        }
        seenCalls.add(key);
      }
      if (choice.finish_reason) {
        if (finished.has(choice.index)) problems.push(`choice ${choice.index} finished twice`);
        finished.add(choice.index);
      }
    }
  });
  return problems;
}
