import type { ChatChunk, ChatResponse, ChunkChoice, ChunkDelta, ToolCallDelta } from '../../canonical/chat.js';

/**
 * Normalises what OpenAI-compatible servers send into what OpenAI itself sends, so a client sees
 * one consistent, schema-valid answer whichever server produced it. Every rule only fills in
 * what is missing, pins what drifts or drops what carries nothing: a conforming OpenAI stream or
 * body passes unchanged, so the rules apply to every OpenAI-wire upstream.
 *
 * Stream rules (recorded deviations, see ../shared/conformance/FACTS.md §4–5):
 * - identity: the first kept chunk's `id/created/model` on every chunk (Groq and xAI change
 *   `created` mid-stream; Azure's filter chunks carry `id:""`, `object:""`, `created:0`);
 * - Azure filter annotations: the prompt-filter chunk (`choices: []`, no usage) and choices that
 *   carry only `content_filter_results/offsets` are dropped; a filter verdict
 *   (`finish_reason: content_filter`) is kept;
 * - `finish_reason` omitted (xAI) → `null`; a missing choice `index` → its position;
 * - a tool call without `index` (Mistral): a new call when it brings a new id, else a fragment
 *   of the last one; a call's first delta without `type` gets `type: 'function'`;
 * - a `finish_reason` on a chunk that also carries a delta (Mistral, DeepSeek, Groq) is split
 *   into the delta chunk and a `delta: {}` finish chunk, as OpenAI sends it;
 * - usage inline on the finish chunk is kept there, or (when the client asked for usage) moved to
 *   OpenAI's trailing `choices: []` usage chunk;
 * - `system_fingerprint: null` (Azure) and non-OpenAI `service_tier` values (Groq) are dropped.
 */

export interface StreamIdentity {
  id: string;
  created: number;
  model: string;
}

export interface StreamNormaliserOptions {
  /** Identity for a stream whose first kept chunk carries none (e.g. Azure's bare filter verdict). */
  fallbackIdentity: StreamIdentity;
  /** The client asked for usage: inline usage on a finish chunk goes out as a trailing usage chunk. */
  separateUsage: boolean;
}

interface ToolCallState {
  count: number;
  lastId: string | undefined;
}

const OPENAI_SERVICE_TIERS = new Set(['auto', 'default', 'flex', 'scale', 'priority', 'fast']);

export class StreamNormaliser {
  private identity: StreamIdentity | undefined;
  private readonly toolCalls = new Map<number, ToolCallState>();

  constructor(private readonly options: StreamNormaliserOptions) {}

  /** The chunks to pass on for one upstream chunk: none (it carried nothing), one, or a few. */
  push(chunk: ChatChunk): ChatChunk[] {
    const choices = chunk.choices.map((choice, position) => this.choice(choice, position)).filter(carriesSomething);
    const usage = chunk.usage ?? null;
    if (choices.length === 0 && usage === null) return [];

    this.identity ??= identityOf(chunk, this.options.fallbackIdentity);
    chunk.id = this.identity.id;
    chunk.created = this.identity.created;
    chunk.model = this.identity.model;
    chunk.object = 'chat.completion.chunk';
    chunk.choices = choices;
    tidyEnvelope(chunk);

    const out: ChatChunk[] = [];
    const finishing = choices.filter((c) => c.finish_reason);
    if (finishing.some((c) => deltaIsSubstantial(c.delta))) {
      out.push({ ...chunk, choices: choices.map((c) => ({ ...c, finish_reason: null })), ...(usage ? { usage: null } : {}) });
      chunk.choices = finishing.map((c) => ({ ...c, delta: {}, ...(c.logprobs ? { logprobs: null } : {}) }));
    } else {
      for (const c of finishing) c.delta = {};
    }
    if (usage !== null && finishing.length > 0 && this.options.separateUsage) {
      chunk.usage = null;
      out.push(chunk, { ...chunk, choices: [], usage });
    } else {
      out.push(chunk);
    }
    return out;
  }

  private choice(choice: ChunkChoice, position: number): ChunkChoice {
    if (typeof choice.index !== 'number') choice.index = position;
    if (choice.finish_reason === undefined) choice.finish_reason = null;
    const calls = choice.delta.tool_calls;
    if (Array.isArray(calls)) choice.delta.tool_calls = this.toolCallDeltas(choice.index, calls);
    return choice;
  }

  private toolCallDeltas(choiceIndex: number, calls: ToolCallDelta[]): ToolCallDelta[] {
    let state = this.toolCalls.get(choiceIndex);
    if (!state) {
      state = { count: 0, lastId: undefined };
      this.toolCalls.set(choiceIndex, state);
    }
    for (const call of calls) {
      const startsCall = typeof call.id === 'string' && call.id !== '' && call.id !== state.lastId;
      if (typeof call.index !== 'number') call.index = startsCall ? state.count : Math.max(state.count - 1, 0);
      state.count = Math.max(state.count, call.index + 1);
      if (startsCall) {
        state.lastId = call.id;
        call.type ??= 'function';
      }
    }
    return calls;
  }
}

/**
 * Normalises a non-streaming body in place: the fields OpenAI always sends (`logprobs`,
 * `message.content`, `message.refusal`, `tool_calls[].type`) filled in where a server omits
 * them (Mistral, xAI, DeepSeek, Groq), `tool_calls: null` dropped, and the envelope tidied.
 */
export function normaliseResponse(response: ChatResponse): ChatResponse {
  response.object = 'chat.completion';
  tidyEnvelope(response);
  response.choices.forEach((choice, position) => {
    if (typeof choice.index !== 'number') choice.index = position;
    if (choice.logprobs === undefined) choice.logprobs = null;
    if (choice.finish_reason === undefined) choice.finish_reason = null;
    const message = choice.message;
    message.role = 'assistant';
    if (message.content === undefined) message.content = null;
    if (message.refusal === undefined) message.refusal = null;
    if (message.tool_calls === null) delete message.tool_calls;
    for (const call of message.tool_calls ?? []) call.type ??= 'function';
  });
  return response;
}

/** Drops envelope values OpenAI's schema does not allow and its clients do not expect. */
function tidyEnvelope(body: { system_fingerprint?: string | null; [field: string]: unknown }): void {
  if (body.system_fingerprint === null) delete body.system_fingerprint;
  const tier = body.service_tier;
  if (tier !== undefined && tier !== null && !(typeof tier === 'string' && OPENAI_SERVICE_TIERS.has(tier))) delete body.service_tier;
}

function identityOf(chunk: ChatChunk, fallback: StreamIdentity): StreamIdentity {
  return {
    id: typeof chunk.id === 'string' && chunk.id !== '' ? chunk.id : fallback.id,
    created: Number.isInteger(chunk.created) && chunk.created > 0 ? chunk.created : fallback.created,
    model: typeof chunk.model === 'string' && chunk.model !== '' ? chunk.model : fallback.model,
  };
}

/** A choice with an empty delta, no finish_reason and no logprobs carries nothing (Azure filter annotations). */
function carriesSomething(choice: ChunkChoice): boolean {
  if (choice.finish_reason) return true;
  if (choice.logprobs !== undefined && choice.logprobs !== null) return true;
  for (const value of Object.values(choice.delta)) if (value !== undefined) return true;
  return false;
}

/**
 * Whether a finishing choice's delta must go out before the finish: anything but empty values
 * (`content: ""`, `reasoning_content: null`) and a stray `delta.index` (seen from a Mistral-hosted model).
 */
function deltaIsSubstantial(delta: ChunkDelta): boolean {
  for (const key in delta) {
    const value = delta[key];
    if (key === 'index' || value === undefined || value === null || value === '') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    return true;
  }
  return false;
}
