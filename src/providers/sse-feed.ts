import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** What a wire format's stream parser does with SSE: handle events, queue what it produces, say when it is done or failed. */
export interface SseSink<T> {
  readonly queue: T[];
  onEvent(message: EventSourceMessage): void;
  onComment(): void;
  /** A failure to throw once what was queued before it has been yielded. */
  failure(): Error | undefined;
  /** The stream ended normally (e.g. at `[DONE]`): stop reading, leave the body to the adapter. */
  done(): boolean;
}

/** What the feed saw, for telling a cut stream from a body that was never SSE. */
export interface SseStats {
  events: number;
  /** Lines that are not SSE fields (an HTML error page, a JSON body). */
  invalidLines: number;
  /** The body's first bytes, kept (up to `keepRaw`) until the first event arrived. */
  raw: string;
}

/**
 * Feeds an SSE body to eventsource-parser and yields what the sink queues, throwing the sink's
 * failure after the events before it. The body is iterated by hand: when the sink is done the
 * body is left open, so the adapter can drain it and keep the connection (closing a live body
 * makes Node build an AbortError per request). At the body's end, an event left without its
 * closing blank line is dispatched — a JSON payload cut short still fails to parse, so nothing
 * truncated passes as complete.
 */
export async function* feedSse<T>(body: AsyncIterable<Uint8Array | string>, sink: SseSink<T>, keepRaw = 0): AsyncGenerator<T, SseStats> {
  const stats: SseStats = { events: 0, invalidLines: 0, raw: '' };
  const parser = createParser({
    onEvent: (message) => {
      stats.events++;
      sink.onEvent(message);
    },
    onComment: () => sink.onComment(),
    onError: (error) => {
      if (error.type === 'unknown-field') stats.invalidLines++;
    },
  });
  const decoder = new TextDecoder();
  const feed = (text: string): void => {
    if (stats.events === 0 && stats.raw.length < keepRaw) stats.raw += text.slice(0, keepRaw - stats.raw.length);
    parser.feed(text);
  };
  function* flush(): Generator<T> {
    while (sink.queue.length > 0) yield sink.queue.shift() as T;
    const failure = sink.failure();
    if (failure) throw failure;
  }

  const pieces = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await pieces.next();
    if (next.done) break;
    feed(typeof next.value === 'string' ? next.value : decoder.decode(next.value, { stream: true }));
    yield* flush();
    if (sink.done()) return stats;
  }
  feed(`${decoder.decode()}\n\n`);
  yield* flush();
  return stats;
}
