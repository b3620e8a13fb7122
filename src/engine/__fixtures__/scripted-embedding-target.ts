import { embeddingInputs, inputCount, type EmbeddingRequest, type EmbeddingResponse } from '../../canonical/embeddings.js';
import { UpstreamFailure, type FailureDetails } from '../../canonical/failure.js';
import type { EmbedOptions, EmbeddingCall, EmbeddingCapabilities, EmbeddingTarget } from '../../providers/embedding-target.js';
import { sleep, type Clock } from '../../time/clock.js';

/** What a scripted embeddings target does on one call. */
export type EmbedStep =
  | { fail: Omit<FailureDetails, 'message'> & { message?: string } }
  /** Answers after `afterMs` with one vector per input (`[seed, index]`), or exactly `vectors`. */
  | { ok: true; afterMs?: number; vectors?: number[][] }
  | { hang: true };

/** An in-process EmbeddingTarget driven by a script on an injected clock; honours the abort signal. */
export class ScriptedEmbeddingTarget implements EmbeddingTarget {
  readonly provider: string;
  readonly model: string;
  calls = 0;

  constructor(
    readonly id: string,
    private readonly clock: Clock,
    private readonly steps: EmbedStep[],
    readonly capabilities: EmbeddingCapabilities = { tokenInput: true, maxInputs: 2048 },
    private readonly seed = 1,
  ) {
    const slash = id.indexOf('/');
    this.provider = id.slice(0, slash);
    this.model = id.slice(slash + 1);
  }

  async embed(request: EmbeddingRequest, options: EmbedOptions): Promise<EmbeddingCall> {
    const step = this.steps[Math.min(this.calls, this.steps.length - 1)] as EmbedStep;
    this.calls++;
    if ('fail' in step) throw new UpstreamFailure({ message: step.fail.kind, ...step.fail });
    if ('hang' in step) {
      await this.wait(Infinity, options.signal);
      throw new Error('unreachable');
    }
    await this.wait(step.afterMs ?? 0, options.signal);
    const count = inputCount(embeddingInputs(request.input));
    const vectors = step.vectors ?? Array.from({ length: count }, (_, i) => [this.seed, i]);
    const response: EmbeddingResponse = {
      object: 'list',
      data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
      model: this.model,
      usage: { prompt_tokens: count, total_tokens: count },
    };
    return { status: 200, headers: {}, response: () => Promise.resolve(response) };
  }

  private wait(ms: number, signal: AbortSignal): Promise<void> {
    return sleep(this.clock, ms, signal);
  }
}
