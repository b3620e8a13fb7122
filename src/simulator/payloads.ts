import { randomBytes } from 'node:crypto';

/** Wire-exact OpenAI chat-completion payload builders (field order mirrors api.openai.com). */

export const DEFAULT_TEXT = 'Hello from the simulator.';
export const SYSTEM_FINGERPRINT = 'fp_sim';
export const SERVICE_TIER = 'default';
export const OWNED_BY = 'understudy-simulator';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export function newCompletionId(): string {
  return `chatcmpl-${randomToken(29)}`;
}

export function newRequestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

export function unixSeconds(ms: number = Date.now()): number {
  return Math.floor(ms / 1000);
}

/** Deterministic token estimate: ~4 characters per token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Prompt token estimate from the request's `messages` (JSON length / 4). */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  return estimateTokens(JSON.stringify(body['messages'] ?? []));
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

export function buildUsage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

export function newMeta(model: string): CompletionMeta {
  return { id: newCompletionId(), created: unixSeconds(), model };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [
    {
      index: 0;
      message: { role: 'assistant'; content: string; refusal: null; annotations: [] };
      logprobs: null;
      finish_reason: 'stop';
    },
  ];
  usage: Usage;
  service_tier: string;
  system_fingerprint: string;
}

export function buildCompletion(meta: CompletionMeta, content: string, usage: Usage): ChatCompletion {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
    service_tier: SERVICE_TIER,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

export type Delta = { role: 'assistant'; content: ''; refusal: null } | { content: string } | Record<string, never>;

export interface ChunkChoice {
  index: 0;
  delta: Delta;
  logprobs: null;
  finish_reason: 'stop' | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  service_tier: string;
  system_fingerprint: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
}

/** Builds the chunks of one streamed completion; `includeUsage` adds `usage:null` to every choice chunk. */
export class ChunkFactory {
  constructor(
    private readonly meta: CompletionMeta,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(choices: ChunkChoice[], usage?: Usage): ChatCompletionChunk {
    const c: ChatCompletionChunk = {
      id: this.meta.id,
      object: 'chat.completion.chunk',
      created: this.meta.created,
      model: this.meta.model,
      service_tier: SERVICE_TIER,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
    };
    if (usage) c.usage = usage;
    else if (this.includeUsage) c.usage = null;
    return c;
  }

  private choice(delta: Delta, finish: 'stop' | null): ChunkChoice {
    return { index: 0, delta, logprobs: null, finish_reason: finish };
  }

  role(): ChatCompletionChunk {
    return this.chunk([this.choice({ role: 'assistant', content: '', refusal: null }, null)]);
  }

  content(text: string): ChatCompletionChunk {
    return this.chunk([this.choice({ content: text }, null)]);
  }

  finish(): ChatCompletionChunk {
    return this.chunk([this.choice({}, 'stop')]);
  }

  usage(usage: Usage): ChatCompletionChunk {
    return this.chunk([], usage);
  }
}

/** One data-only SSE event. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';
/** A `data:` line whose JSON is cut off mid-key. */
export const MALFORMED_JSON = '{"id": "chatcmpl-x", "choi';
export const MALFORMED_SSE_EVENT = `data: ${MALFORMED_JSON}\n\n`;
export const DEFAULT_GARBAGE = '<html><body><h1>502 Bad Gateway</h1></body></html>\n';

/** Word-ish pieces the way tokenizers emit them: leading whitespace stays with the following word. */
export function wordPieces(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Splits `text` into exactly `count` contiguous pieces (by code point; pieces are empty when text is shorter). */
export function splitExactly(text: string, count: number): string[] {
  const words = wordPieces(text);
  if (words.length >= count) return groupEvenly(words, count).map((g) => g.join(''));
  return groupEvenly(Array.from(text), count).map((g) => g.join(''));
}

function groupEvenly<T>(items: T[], count: number): T[][] {
  const groups: T[][] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = Math.round(((i + 1) * items.length) / count);
    groups.push(items.slice(start, end));
    start = end;
  }
  return groups;
}

/**
 * Content chunks for a streamed text: exactly `exact` pieces when given, otherwise one per word,
 * but never fewer than `atLeast` (so an interruption point always falls inside the text).
 */
export function contentPieces(text: string, exact?: number, atLeast = 0): string[] {
  if (exact !== undefined) return splitExactly(text, exact);
  const words = wordPieces(text);
  return words.length >= atLeast ? words : splitExactly(text, atLeast);
}
