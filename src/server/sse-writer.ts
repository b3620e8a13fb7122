import type { ServerResponse } from 'node:http';
import type { Served, StreamItem } from '../engine/engine.js';
import type { StreamEncoder } from './inbound/inbound-api.js';

/**
 * Writes an engine stream through an inbound API's encoder, with backpressure. A failure after
 * output ends the stream with the API's error event and no success terminator.
 */
export async function writeSse(res: ServerResponse, served: Served, items: AsyncIterable<StreamItem>, encoder: StreamEncoder): Promise<void> {
  let failed = false;
  for await (const item of items) {
    if (res.destroyed) break;
    let text: string;
    if (item.type === 'chunk') text = encoder.chunk(item.chunk);
    else if (item.type === 'keepalive') text = encoder.keepalive();
    else {
      failed = true;
      text = encoder.error(item.error);
    }
    if (text && !res.write(text)) await drained(res);
  }
  if (res.destroyed) return;
  if (!failed) res.write(encoder.end(served));
  res.end();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
