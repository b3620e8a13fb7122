import type { ChatChunk, ChatRequest } from '../../canonical/chat.js';
import { UpstreamFailure, type FailureDetails } from '../../canonical/failure.js';
import type { CallOptions, Target, UpstreamCall, UpstreamEvent } from '../../providers/target.js';
import { sleep, type Clock } from '../../time/clock.js';

/** What a scripted in-process target does on one call. */
export type Step =
  | { fail: Omit<FailureDetails, 'message'> & { message?: string } }
  | { text: string; chunkGapMs?: number; headersAfterMs?: number; firstAfterMs?: number; stallAfterChunk?: number }
  | { hang: true };

/**
 * An in-process Target driven by a script, on an injected clock. It is an upstream stand-in for
 * engine tests (the engine is what is under test); it honours the abort signal like a real call.
 */
export class ScriptedTarget implements Target {
  readonly provider: string;
  readonly model: string;
  readonly capabilities = { tools: true, jsonSchema: true, vision: true, prefill: false };
  calls = 0;
  aborted = 0;

  constructor(
    readonly id: string,
    private readonly clock: Clock,
    private readonly steps: Step[],
  ) {
    const slash = id.indexOf('/');
    this.provider = id.slice(0, slash);
    this.model = id.slice(slash + 1);
  }

  streamsUpstream(): boolean {
    return true;
  }

  async call(_request: ChatRequest, options: CallOptions): Promise<UpstreamCall> {
    const step = this.steps[Math.min(this.calls, this.steps.length - 1)] as Step;
    this.calls++;
    if ('fail' in step) throw new UpstreamFailure({ message: step.fail.kind, ...step.fail });
    if ('hang' in step) return this.wait(Infinity, options.signal).then(() => ({ status: 200, headers: {}, events: (async function* () {})() }));
    await this.wait(step.headersAfterMs ?? 0, options.signal);
    return { status: 200, headers: {}, events: this.stream(step, options.signal) };
  }

  private async *stream(step: Extract<Step, { text: string }>, signal: AbortSignal): AsyncGenerator<UpstreamEvent> {
    const words = step.text.split(' ');
    yield { type: 'chunk', chunk: chunk(this.model, { role: 'assistant', content: '' }) };
    await this.wait(step.firstAfterMs ?? 0, signal);
    for (const [i, word] of words.entries()) {
      if (i > 0) await this.wait(step.chunkGapMs ?? 0, signal);
      if (step.stallAfterChunk !== undefined && i === step.stallAfterChunk) await this.wait(Infinity, signal);
      yield { type: 'chunk', chunk: chunk(this.model, { content: i === 0 ? word : ` ${word}` }) };
    }
    yield { type: 'chunk', chunk: chunk(this.model, {}, 'stop') };
  }

  private wait(ms: number, signal: AbortSignal): Promise<void> {
    return sleep(this.clock, ms, signal).catch((reason: unknown) => {
      this.aborted++;
      throw reason;
    });
  }
}

function chunk(model: string, delta: ChatChunk['choices'][number]['delta'], finish: 'stop' | null = null): ChatChunk {
  return { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] };
}
