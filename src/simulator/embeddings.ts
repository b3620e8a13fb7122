import { createHash } from 'node:crypto';
import { sendFailure } from './behaviours.js';
import { sendError } from './completion.js';
import type { Dialect, RequestFeatures, SimRequest } from './dialect.js';
import { gemini } from './dialects/gemini.js';
import { geminiBatchEmbed, geminiEmbed, openAIEmbeddings, type EmbeddingWire } from './dialects/embeddings.js';
import { openai } from './dialects/openai.js';
import type { Exchange } from './exchange.js';
import { charsToTokens } from './payloads.js';
import type { LeafScenario } from './scenario.js';

/** Vector length when the request names none. Small, so tests stay fast; a real model's is 768–3072. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 64;
const MAX_DIMENSIONS = 3072;
/** An embeddings model's input limit for the `context_window` scenario (OpenAI's embedding models). */
const DEFAULT_EMBEDDING_LIMIT = 8192;

/** An embeddings endpoint resolved from the URL. */
export interface EmbeddingEndpoint {
  dialect: Dialect;
  embed: EmbeddingWire;
  model?: string;
  stream: false;
}

const GEMINI_EMBED = /^\/(?:v1beta|v1|v1alpha)\/models\/([^/:]+):(embedContent|batchEmbedContents)$/;
const AZURE_EMBED = /^\/openai\/deployments\/([^/]+)\/embeddings$/;

/** `POST /v1/embeddings`, Azure's `/openai/deployments/{d}/embeddings`, Gemini's `models/{m}:embedContent|batchEmbedContents`. */
export function embeddingEndpoint(path: string): EmbeddingEndpoint | undefined {
  if (path === '/v1/embeddings') return { dialect: openai, embed: openAIEmbeddings, stream: false };
  const azure = AZURE_EMBED.exec(path);
  if (azure) return { dialect: openai, embed: openAIEmbeddings, model: decodeURIComponent(azure[1] ?? ''), stream: false };
  const m = GEMINI_EMBED.exec(path);
  if (m) return { dialect: gemini, embed: m[2] === 'embedContent' ? geminiEmbed : geminiBatchEmbed, model: decodeURIComponent(m[1] ?? ''), stream: false };
  return undefined;
}

/** Request features of an embeddings request: its size (for usage and `context_window`), nothing else. */
export function embeddingFeatures(wire: EmbeddingWire, body: Record<string, unknown>): RequestFeatures {
  const chars = wire.read(body).inputs.reduce((n, text) => n + text.length, 0);
  return { promptChars: chars, tools: [], forcedTool: undefined, json: undefined, includeUsage: false };
}

/**
 * A deterministic unit vector for `text` under `model`: a hash of both seeds a generator whose
 * first `dimensions` values are normalised and rounded to float32 (as real embeddings are). The
 * same model on any provider gives the same vector; another model gives another; a shorter
 * `dimensions` is the longer vector's prefix, renormalised (OpenAI's shortening).
 */
export function embeddingVector(model: string, text: string, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): number[] {
  const seed = createHash('sha256').update(`${model}\u0000${text}`).digest();
  let state = seed.readUInt32LE(0) || 1;
  const raw: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    // xorshift32: fast, deterministic, good enough to spread values over [-1, 1).
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    raw.push(state / 0x80000000 - 1);
  }
  const norm = Math.sqrt(raw.reduce((n, v) => n + v * v, 0)) || 1;
  return raw.map((v) => Math.fround(v / norm));
}

/** Executes one resolved scenario against an embeddings request. Streaming faults become their non-stream forms. */
export async function runEmbeddingBehaviour(scenario: LeafScenario, x: Exchange, d: Dialect, wire: EmbeddingWire, req: SimRequest): Promise<void> {
  const answer = (delayMs = 0, empty = false): Promise<void> => sendVectors(x, d, wire, req, { delayMs, empty });
  switch (scenario.kind) {
    case 'ok':
      return answer(scenario.latency_ms ?? 0);
    case 'slow_first_token':
      return answer(scenario.delay_ms);
    case 'missing_done':
    case 'tool_call':
    case 'json':
      return answer();
    case 'empty':
      return answer(0, true);
    case 'stall':
      return scenario.stall_ms === undefined ? x.untilClosed() : answer(scenario.stall_ms);
    case 'cut':
      return sendPartial(x, d, vectorsBody(wire, req, false), 'cut');
    case 'malformed_chunk':
      return sendPartial(x, d, vectorsBody(wire, req, false), 'malformed');
    case 'midstream_error':
      return sendError(x, d, req, { kind: 'status', status: scenario.status ?? 529, message: scenario.message });
    case 'context_window': {
      const limit = scenario.limit ?? DEFAULT_EMBEDDING_LIMIT;
      return sendError(x, d, req, { kind: 'context_window', limit, tokens: Math.max(limit + 1, charsToTokens(req.promptChars)) });
    }
    case 'content_filter':
      return sendError(x, d, req, { kind: 'content_filter' });
    default:
      return sendFailure(scenario, x, d, req);
  }
}

function vectorsBody(wire: EmbeddingWire, req: SimRequest, empty: boolean): string {
  const { inputs, dimensions } = wire.read(req.body);
  const length = Math.min(Math.max(1, dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS), MAX_DIMENSIONS);
  const vectors = inputs.map((text) => (empty ? [] : embeddingVector(req.model, text, length)));
  return wire.body(req.model, vectors, charsToTokens(req.promptChars), req.body);
}

async function sendVectors(x: Exchange, d: Dialect, wire: EmbeddingWire, req: SimRequest, opts: { delayMs: number; empty: boolean }): Promise<void> {
  if (!(await x.sleep(opts.delayMs))) return;
  x.send(200, vectorsBody(wire, req, opts.empty), { 'content-type': d.jsonContentType });
}

/** `cut`: headers promise the whole body, half arrives, the connection dies. `malformed`: a complete response of half a JSON document. */
async function sendPartial(x: Exchange, d: Dialect, text: string, how: 'cut' | 'malformed'): Promise<void> {
  const body = Buffer.from(text, 'utf8');
  const half = body.subarray(0, Math.floor(body.length / 2));
  if (how === 'malformed') {
    x.send(200, half.toString('utf8'), { 'content-type': d.jsonContentType });
    return;
  }
  if (!x.writeHead(200, { 'content-type': d.jsonContentType, 'content-length': body.length })) return;
  if (!(await x.write(half))) return;
  x.destroySocket();
}
