import type { ChatChunk, ChatResponse, ChunkDelta, ChatChoice, ToolCall, Usage } from './chat.js';

/** True when a delta carries model output: text, a refusal, reasoning or a tool call. */
export function deltaHasOutput(delta: ChunkDelta): boolean {
  return (
    (typeof delta.content === 'string' && delta.content.length > 0) ||
    (typeof delta.refusal === 'string' && delta.refusal.length > 0) ||
    (typeof delta.reasoning_content === 'string' && delta.reasoning_content.length > 0) ||
    (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0)
  );
}

/** True when a chunk carries output (keep-alive, role-only and empty chunks do not). */
export function chunkHasOutput(chunk: ChatChunk): boolean {
  for (const choice of chunk.choices) if (deltaHasOutput(choice.delta)) return true;
  return false;
}

/** True when a chunk ends a choice (carries a non-null finish_reason). */
export function chunkFinishes(chunk: ChatChunk): boolean {
  for (const choice of chunk.choices) if (choice.finish_reason) return true;
  return false;
}

interface ChoiceBuilder {
  content: string;
  sawContent: boolean;
  refusal: string | null;
  reasoning: string;
  /** Signed reasoning blocks (Anthropic thinking), kept whole so a later turn can send them back. */
  thinkingBlocks: unknown[];
  toolCalls: ToolCall[];
  finish: ChatChoice['finish_reason'];
}

/** Assembles a stream of chunks into the non-streaming response it stands for. */
export class ChunkAssembler {
  private id = '';
  private created = 0;
  private model = '';
  private fingerprint: string | null | undefined;
  private usage: Usage | null = null;
  private readonly choices = new Map<number, ChoiceBuilder>();

  add(chunk: ChatChunk): void {
    if (chunk.id) this.id = chunk.id;
    if (chunk.created) this.created = chunk.created;
    if (chunk.model) this.model = chunk.model;
    if (chunk.system_fingerprint !== undefined) this.fingerprint = chunk.system_fingerprint;
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) this.addChoice(choice.index, choice.delta, choice.finish_reason ?? null);
  }

  private addChoice(index: number, delta: ChunkDelta, finish: ChatChoice['finish_reason']): void {
    let b = this.choices.get(index);
    if (!b) {
      b = { content: '', sawContent: false, refusal: null, reasoning: '', thinkingBlocks: [], toolCalls: [], finish: null };
      this.choices.set(index, b);
    }
    if (typeof delta.content === 'string') {
      b.content += delta.content;
      b.sawContent = true;
    }
    if (typeof delta.refusal === 'string') b.refusal = (b.refusal ?? '') + delta.refusal;
    if (typeof delta.reasoning_content === 'string') b.reasoning += delta.reasoning_content;
    if (Array.isArray(delta.thinking_blocks)) b.thinkingBlocks.push(...(delta.thinking_blocks as unknown[]));
    for (const call of delta.tool_calls ?? []) {
      const i = call.index ?? b.toolCalls.length;
      const existing = b.toolCalls[i];
      if (!existing) {
        b.toolCalls[i] = {
          id: call.id ?? '',
          type: 'function',
          function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' },
        };
      } else {
        if (call.id) existing.id = call.id;
        if (call.function?.name) existing.function.name += call.function.name;
        if (call.function?.arguments) existing.function.arguments += call.function.arguments;
      }
    }
    if (finish) b.finish = finish;
  }

  result(): ChatResponse {
    const choices: ChatChoice[] = [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, b]) => {
        const message: ChatChoice['message'] = {
          role: 'assistant',
          content: b.sawContent || b.toolCalls.length === 0 ? b.content : null,
          refusal: b.refusal,
        };
        if (b.reasoning) message.reasoning_content = b.reasoning;
        if (b.thinkingBlocks.length > 0) message.thinking_blocks = b.thinkingBlocks;
        if (b.toolCalls.length > 0) message.tool_calls = b.toolCalls.filter(Boolean);
        return { index, message, logprobs: null, finish_reason: b.finish };
      });
    const response: ChatResponse = {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices,
    };
    if (this.usage) response.usage = this.usage;
    if (this.fingerprint !== undefined) response.system_fingerprint = this.fingerprint;
    return response;
  }
}

/** The chunks a streaming client should see for a complete (non-streamed) response. */
export function responseToChunks(response: ChatResponse, includeUsage: boolean): ChatChunk[] {
  const base = {
    id: response.id,
    object: 'chat.completion.chunk' as const,
    created: response.created,
    model: response.model,
    ...(response.system_fingerprint !== undefined ? { system_fingerprint: response.system_fingerprint } : {}),
  };
  const chunks: ChatChunk[] = [];
  for (const choice of response.choices) {
    const m = choice.message;
    const delta: ChunkDelta = { role: 'assistant', content: m.content ?? (m.tool_calls ? null : '') };
    if (m.refusal) delta.refusal = m.refusal;
    if (typeof m.reasoning_content === 'string' && m.reasoning_content) delta.reasoning_content = m.reasoning_content;
    if (Array.isArray(m.thinking_blocks) && m.thinking_blocks.length > 0) delta.thinking_blocks = m.thinking_blocks;
    if (m.tool_calls) {
      delta.tool_calls = m.tool_calls.map((call, index) => ({
        index,
        id: call.id,
        type: 'function' as const,
        function: { name: call.function.name, arguments: call.function.arguments },
      }));
    }
    chunks.push({ ...base, choices: [{ index: choice.index, delta, logprobs: null, finish_reason: null }] });
    chunks.push({ ...base, choices: [{ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
  }
  if (includeUsage && response.usage) chunks.push({ ...base, choices: [], usage: response.usage });
  return chunks;
}
