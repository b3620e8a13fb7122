import type { ChatChunk, ChunkChoice, ChunkDelta } from '../../canonical/chat.js';
import { UpstreamFailure, type FailureDetails } from '../../canonical/failure.js';
import type { UpstreamEvent } from '../target.js';
import { readParts, toUsage } from './candidate.js';
import { classifyGeminiError, readGeminiError } from './errors.js';
import { finishVerdict } from './finish-reason.js';
import { blockedPrompt, isResponse, type ResponseContext } from './response.js';
import type { GeminiCandidate, GeminiUsageMetadata, GenerateContentResponse } from './wire.js';

interface CandidateState {
  calls: number;
  finished: boolean;
}

/**
 * The translation of one Gemini stream, one SSE `data` payload at a time (no I/O). Emitted
 * events collect in `queue`; the first failure is kept in `failure` and everything after it is
 * ignored. A failure after output is a `stream_cut` (keeping the provider's code), so the engine
 * continues on another target instead of presenting a truncated answer.
 */
export class GeminiStreamState {
  readonly queue: UpstreamEvent[] = [];
  failure: UpstreamFailure | undefined;
  private readonly candidates = new Map<number, CandidateState>();
  private id: string;
  private model: string;
  private usage: GeminiUsageMetadata | undefined;
  private outputSeen = false;

  constructor(
    private readonly ctx: ResponseContext,
    private readonly secrets: readonly string[],
  ) {
    this.id = `gemini-${ctx.created}`;
    this.model = ctx.model;
  }

  onData(data: string): void {
    if (this.failure) return;
    if (data.trim() === '') {
      this.queue.push({ type: 'keepalive' });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return this.fail({ kind: 'malformed_response', code: 'malformed_chunk', message: `malformed stream event: ${truncate(data)}` });
    }
    const error = readGeminiError(parsed);
    if (error) return this.fail(classifyGeminiError(undefined, error, data, undefined, this.secrets));
    if (!isResponse(parsed)) {
      return this.fail({ kind: 'malformed_response', code: 'malformed_chunk', message: `stream event is not a GenerateContentResponse: ${truncate(data)}` });
    }
    this.onResponse(parsed);
  }

  /** At the end of the body: the usage chunk, or the failure of a stream that never finished. */
  finish(): UpstreamEvent | undefined {
    const states = [...this.candidates.values()];
    if (states.length === 0 || states.some((s) => !s.finished)) {
      throw new UpstreamFailure({ kind: 'stream_cut', code: 'no_finish_reason', message: 'stream ended (connection closed) before a finishReason' });
    }
    return this.usage ? { type: 'chunk', chunk: { ...this.chunk([]), usage: toUsage(this.usage) } } : undefined;
  }

  private onResponse(response: GenerateContentResponse): void {
    if (typeof response.responseId === 'string') this.id = response.responseId;
    if (typeof response.modelVersion === 'string') this.model = response.modelVersion;
    if (response.usageMetadata) this.usage = response.usageMetadata;
    const blocked = blockedPrompt(response);
    if (blocked) {
      this.failure = blocked;
      return;
    }
    (response.candidates ?? []).forEach((candidate, position) => {
      if (!this.failure) this.onCandidate(candidate, position);
    });
  }

  /** A role chunk the first time a candidate appears, then its new output, then its finish chunk. */
  private onCandidate(candidate: GeminiCandidate, position: number): void {
    const index = candidate.index ?? position;
    let state = this.candidates.get(index);
    const out = readParts(candidate.content?.parts, { responseId: this.id, candidate: index, firstOrdinal: state?.calls ?? 0 });
    if (!state) {
      this.candidates.set(index, (state = { calls: 0, finished: false }));
      // As OpenAI does: `content: ""` first, or `null` when the answer starts with a tool call.
      this.push(index, { role: 'assistant', content: out.calls.length > 0 && !out.text ? null : '' }, null);
    }
    if (state.finished) return;
    const delta: ChunkDelta = {};
    if (out.text) delta.content = out.text;
    if (out.reasoning) delta.reasoning_content = out.reasoning;
    if (out.calls.length > 0) {
      const first = state.calls;
      delta.tool_calls = out.calls.map((call, i) => ({ index: first + i, ...call }));
      state.calls += out.calls.length;
    }
    if (Object.keys(delta).length > 0) {
      this.outputSeen = true;
      this.push(index, delta, null);
    }
    if (candidate.finishReason === undefined) return;
    const verdict = finishVerdict(candidate.finishReason, state.calls > 0);
    if (!verdict.ok) return this.fail({ kind: 'malformed_response', code: verdict.code, message: verdict.message });
    state.finished = true;
    this.push(index, {}, verdict.reason);
  }

  private push(index: number, delta: ChunkDelta, finish: ChunkChoice['finish_reason']): void {
    this.queue.push({ type: 'chunk', chunk: this.chunk([{ index, delta, logprobs: null, finish_reason: finish }]) });
  }

  private chunk(choices: ChunkChoice[]): ChatChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model, choices };
  }

  private fail(details: FailureDetails): void {
    this.failure = new UpstreamFailure(this.outputSeen ? { ...details, kind: 'stream_cut', code: details.code ?? details.kind } : details);
  }
}

export function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
