import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Catalog } from '../engine/catalog.js';
import type { Engine } from '../engine/engine.js';
import { parseChatRequest } from './chat-request.js';
import { readBody } from './read-body.js';
import { badRequest, sendError, sendJson } from './respond.js';
import { writeSse } from './sse-writer.js';
import { attemptSummary, failureHeaders, servedHeaders } from './understudy-headers.js';

export interface ChatHandlerDeps {
  engine: Engine;
  catalog: Catalog;
  bodyLimitBytes: number;
  /** Records a request rejected before the engine ran (bad input is still logged). */
  onRejected: (requestId: string, route: string, status: number, reason: string) => void;
}

/** `POST /v1/chat/completions`: parse once, resolve the route, run the engine, write the answer. */
export async function handleChatCompletions(req: IncomingMessage, res: ServerResponse, requestId: string, deps: ChatHandlerDeps): Promise<void> {
  const base = { 'x-request-id': requestId };
  const body = await readBody(req, deps.bodyLimitBytes);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      const error = badRequest(`The request body exceeds the limit of ${deps.bodyLimitBytes} bytes.`, 'request_too_large', null, 413);
      deps.onRejected(requestId, '', 413, error.code ?? 'request_too_large');
      sendError(res, error, { ...base, connection: 'close' });
    }
    return;
  }
  const parsed = parseChatRequest(body.body);
  if (!parsed.ok) {
    deps.onRejected(requestId, '', parsed.error.status, parsed.error.code ?? 'invalid_request');
    sendError(res, parsed.error, base);
    return;
  }
  const request = parsed.request;
  const resolution = deps.catalog.resolve(request.model, request.fallback_models ?? []);
  if (!resolution.ok) {
    deps.onRejected(requestId, request.model, resolution.error.status, resolution.error.code ?? 'invalid_request');
    sendError(res, resolution.error, base);
    return;
  }

  const route = resolution.route;
  const cancel = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) cancel.abort();
  };
  res.once('close', onClose);
  const stream = request.stream === true;
  const result = await deps.engine.run(route, request, { requestId, stream, signal: cancel.signal });

  if (result.type === 'error') {
    const headers = failureHeaders(requestId, route.name, result.attempts);
    sendError(res, result.error, headers, { attempts: attemptSummary(result.attempts) });
    return;
  }
  const headers = servedHeaders(requestId, result.served);
  if (result.type === 'response') {
    sendJson(res, 200, JSON.stringify(result.response), headers);
    return;
  }
  if (res.destroyed) {
    // Start and stop the stream so the engine records the cancel and releases the upstream call.
    for await (const _item of result.items) break;
    return;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  await writeSse(res, result.served, result.items);
}
