import type { ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';
import type { Served, StreamItem } from '../engine/engine.js';
import { attemptCount } from '../engine/attempt.js';
import { openAIErrorBody } from './respond.js';

/**
 * Writes an engine stream as OpenAI SSE. Success ends with an `: understudy {...}` comment naming
 * who served, then `data: [DONE]`. A failure after output ends with a `data: {"error":...}` event
 * and no [DONE], which the official SDKs raise as an error.
 */
export async function writeSse(res: ServerResponse, served: Served, items: AsyncIterable<StreamItem>): Promise<void> {
  let failed: ClientError | undefined;
  for await (const item of items) {
    if (res.destroyed) break;
    let text: string;
    if (item.type === 'chunk') text = `data: ${JSON.stringify(item.chunk)}\n\n`;
    else if (item.type === 'keepalive') text = ': keep-alive\n\n';
    else {
      failed = item.error;
      text = `data: ${openAIErrorBody(item.error)}\n\n`;
    }
    if (!res.write(text)) await drained(res);
  }
  if (res.destroyed) return;
  if (!failed) {
    const trailer = {
      route: served.route,
      served_by: served.servedBy,
      attempts: attemptCount(served.attempts),
      degraded: served.degraded,
    };
    res.write(`: understudy ${JSON.stringify(trailer)}\n\ndata: [DONE]\n\n`);
  }
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
