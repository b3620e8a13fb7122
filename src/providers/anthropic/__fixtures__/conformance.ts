/**
 * Test helpers over ../shared/conformance: the Anthropic Messages schema (draft-07) and the
 * recorded Anthropic streams and bodies.
 */
import { readdirSync, readFileSync } from 'node:fs';
import AjvModule, { type ValidateFunction } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv = AjvModule.default;
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

export const CONFORMANCE = new URL('../../../../../shared/conformance/', import.meta.url);
export const FIXTURES = new URL('fixtures/', CONFORMANCE);

const schema = JSON.parse(readFileSync(new URL('anthropic/anthropic-messages.schema.json', CONFORMANCE), 'utf8')) as {
  $id: string;
  definitions: Record<string, { properties?: Record<string, unknown> }>;
};
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(schema);

function validator(name: string): ValidateFunction {
  const fn = ajv.getSchema(`${schema.$id}#/definitions/${name}`);
  if (!fn) throw new Error(`no definition ${name}`);
  return fn;
}

const createParams = validator('Root_MessageCreateParams');
/** The schema does not forbid unknown fields, but the API does: check the top level by hand. */
const KNOWN_BODY_FIELDS = new Set(Object.keys(schema.definitions.MessageCreateParamsBase?.properties ?? {}));

/** Problems with a request body as the API would see them; empty when it is valid. */
export function requestProblems(body: unknown): string[] {
  const problems: string[] = [];
  if (!createParams(body)) problems.push(ajv.errorsText(createParams.errors?.slice(0, 4)));
  for (const key of Object.keys(body as object)) if (!KNOWN_BODY_FIELDS.has(key)) problems.push(`unknown field '${key}'`);
  const messages = (body as { messages?: { role: string }[] }).messages ?? [];
  messages.forEach((m, i) => {
    if (m.role !== 'user' && m.role !== 'assistant') problems.push(`messages[${i}].role is ${m.role}`);
    if (i > 0 && messages[i - 1]?.role === m.role) problems.push(`messages[${i}] repeats role ${m.role}`);
  });
  return problems;
}

export interface Recording {
  name: string;
  /** SSE text (vercel-ai `.chunks.txt` recordings are framed as SSE here). */
  sse: string;
}

/** vercel/ai `*.chunks.txt` hold one event JSON per line; frame each as an SSE event named by its type. */
export function chunksToSse(text: string): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `event: ${(JSON.parse(line) as { type: string }).type}\ndata: ${line}\n\n`)
    .join('');
}

function filesUnder(dir: URL, suffix: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return filesUnder(new URL(`${entry.name}/`, dir), suffix, `${prefix}${entry.name}/`);
    return entry.name.endsWith(suffix) ? [`${prefix}${entry.name}`] : [];
  });
}

export const read = (relative: string): string => readFileSync(new URL(relative, FIXTURES), 'utf8');

/** Every recorded Anthropic stream: the SDK recordings (.sse) and the vercel/ai recordings (.chunks.txt). */
export function recordedStreams(): Recording[] {
  const sdk = filesUnder(new URL('anthropic/', FIXTURES), '.sse').map((f) => ({ name: `anthropic/${f}`, sse: read(`anthropic/${f}`) }));
  const vercel = filesUnder(new URL('vercel-ai/anthropic/', FIXTURES), '.chunks.txt').map((f) => ({
    name: `vercel-ai/anthropic/${f}`,
    sse: chunksToSse(read(`vercel-ai/anthropic/${f}`)),
  }));
  return [...sdk, ...vercel];
}

/** The vercel/ai non-streaming Message bodies. */
export function recordedBodies(): { name: string; text: string }[] {
  return filesUnder(new URL('vercel-ai/anthropic/', FIXTURES), '.json').map((f) => ({ name: f, text: read(`vercel-ai/anthropic/${f}`) }));
}

const openaiSchema = JSON.parse(readFileSync(new URL('openai-chat.schema.json', CONFORMANCE), 'utf8')) as { $id: string };
const ajv2020 = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv2020);
ajv2020.addSchema(openaiSchema);

/** Problems with a canonical payload against OpenAI's schema (`CreateChatCompletionResponse` | `CreateChatCompletionStreamResponse`). */
export function openaiProblems(definition: string, value: unknown): string[] {
  const fn = ajv2020.getSchema(`${openaiSchema.$id}#/$defs/${definition}`);
  if (!fn) throw new Error(`no definition ${definition}`);
  return fn(value) ? [] : [ajv2020.errorsText(fn.errors?.slice(0, 4))];
}
