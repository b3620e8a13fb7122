import type { ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';
import type { StreamItem } from '../engine/engine.js';

/** What a request refused while draining, or unanswered when the grace period ends, receives (and what a stream still open then ends with). */
export const SHUTTING_DOWN: ClientError = {
  status: 503,
  message: 'The gateway is shutting down; send the request again (another instance will answer it).',
  type: 'server_error',
  code: 'shutting_down',
  param: null,
};

/** Calls `stop` when the grace period ends while `res` is open; the listener goes when `res` closes. */
export function onGraceOver(signal: AbortSignal | undefined, res: ServerResponse, stop: () => void): void {
  if (!signal) return;
  if (signal.aborted) return stop();
  signal.addEventListener('abort', stop, { once: true });
  res.once('close', () => signal.removeEventListener('abort', stop));
}

/**
 * A stream that ends with SHUTTING_DOWN (an error item, so no success terminator follows) if the
 * grace period ends before it does. The caller also aborts the engine, which settles the pending read.
 */
export async function* untilGraceOver(items: AsyncIterable<StreamItem>, signal: AbortSignal | undefined): AsyncGenerator<StreamItem> {
  if (!signal) return yield* items;
  const iterator = items[Symbol.asyncIterator]();
  let stop: () => void = () => undefined;
  const stopped = new Promise<'stop'>((resolve) => (stop = () => resolve('stop')));
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), stopped]);
      if (next === 'stop') {
        yield { type: 'error', error: SHUTTING_DOWN };
        return;
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    // Not awaited: a read still pending settles once the engine sees its abort.
    iterator.return?.().catch(() => undefined);
  }
}
