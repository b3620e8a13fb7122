import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';
import type { AttemptRecord } from '../engine/attempt.js';
import type { Catalog } from '../engine/catalog.js';
import type { Engine } from '../engine/engine.js';
import type { InboundApi } from './inbound/inbound-api.js';
import { readBody } from './read-body.js';
import { maxExtraCostHeader } from './request-options.js';
import { badRequest, sendJson } from './respond.js';
import { faultFromHeaders, type FaultHeaderDeps } from './fault-header.js';
import { writeSse } from './sse-writer.js';
import { failureHeaders, servedHeaders } from './understudy-headers.js';

export interface InferenceDeps {
  engine: Engine;
  catalog: Catalog;
  bodyLimitBytes: number;
  /** Records a request rejected before the engine ran (bad input is still logged). */
  onRejected: (requestId: string, route: string, status: number, reason: string) => void;
  /** What `x-understudy-fault` headers need (the admin key); without it they are refused. */
  faultHeaders?: FaultHeaderDeps;
}

/**
 * One flow for every inbound API: read the body under the limit, parse it once into the
 * canonical request, resolve the route, run the engine, and render the answer in the client's
 * own wire format.
 */
export async function handleInference(api: InboundApi, req: IncomingMessage, res: ServerResponse, requestId: string, deps: InferenceDeps): Promise<void> {
  const base = { 'x-request-id': requestId };
  const reject = (error: ClientError, route = '', headers: Record<string, string> = base): void => {
    deps.onRejected(requestId, route, error.status, error.code ?? 'invalid_request');
    sendApiError(res, api, error, headers);
  };
  const body = await readBody(req, deps.bodyLimitBytes);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      reject(badRequest(`The request body exceeds the limit of ${deps.bodyLimitBytes} bytes.`, 'request_too_large', null, 413), '', { ...base, connection: 'close' });
    }
    return;
  }
  const injected = faultFromHeaders(req.headers, deps.faultHeaders);
  if (!injected.ok) return reject(injected.error);
  const costCap = maxExtraCostHeader(req.headers);
  if (!costCap.ok) return reject(costCap.error);
  const parsed = api.parse(body.body, req.headers);
  if (!parsed.ok) return reject(parsed.error);
  const request = parsed.request;
  const resolution = deps.catalog.resolve(request.model, request.fallback_models ?? []);
  if (!resolution.ok) return reject(resolution.error, request.model);

  const route = resolution.route;
  const cancel = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) cancel.abort();
  });
  const stream = request.stream === true;
  const session = req.headers['x-understudy-session'];
  const result = await deps.engine.run(route, request, { requestId, stream, signal: cancel.signal, session: Array.isArray(session) ? session[0] : session,
    fault: injected.fault,
    maxExtraCost: costCap.value,
  });

  if (result.type === 'error') {
    sendApiError(res, api, result.error, failureHeaders(requestId, route.name, result.attempts), result.attempts);
    return;
  }
  const headers = servedHeaders(requestId, result.served);
  if (result.type === 'response') {
    sendJson(res, 200, api.responseBody(result.response, parsed.encoderOptions), headers);
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
  await writeSse(res, result.served, result.items, api.streamEncoder(parsed.encoderOptions));
}

/** An error in the inbound API's shape, with Retry-After headers when the error carries a wait. */
export function sendApiError(res: ServerResponse, api: InboundApi, error: ClientError, headers: Record<string, string>, attempts?: readonly AttemptRecord[]): void {
  const all = { ...headers };
  if (error.retryAfterMs !== undefined) {
    all['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    all['retry-after-ms'] = String(error.retryAfterMs);
  }
  sendJson(res, error.status, api.errorBody(error, attempts), all);
}
