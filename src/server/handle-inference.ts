import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';
import type { AttemptRecord } from '../engine/attempt.js';
import type { Catalog } from '../engine/catalog.js';
import type { Engine } from '../engine/engine.js';
import type { KeyAccess } from '../keys/access.js';
import { admitChat } from './auth.js';
import type { InboundApi } from './inbound/inbound-api.js';
import { maxExtraCostHeader } from './request-options.js';
import { sendJson } from './respond.js';
import { faultFromHeaders, type FaultHeaderDeps } from './fault-header.js';
import { writeSse } from './sse-writer.js';
import { requestLimitError } from './input-limits.js';
import { onGraceOver, untilGraceOver } from './shutdown-stream.js';
import { failureHeaders, servedHeaders } from './understudy-headers.js';
import { readAuthenticatedBody } from './read-request.js';

export interface InferenceDeps {
  engine: Engine;
  catalog: Catalog;
  bodyLimitBytes: number;
  /** `server.max_messages`: more messages than this is a 400. */
  maxMessages: number;
  /** `server.max_json_depth`: a body nested deeper is a 400, before it is parsed. */
  maxJsonDepth: number;
  /** Aborted when a shutdown's grace period ends: the engine stops and a stream ends with `shutting_down`. */
  graceOver?: AbortSignal;
  /** Records a request rejected before the engine ran (bad input is still logged). */
  onRejected: (requestId: string, route: string, status: number, reason: string, keyId?: string) => void;
  /** Virtual keys (auth.ts): who may call, what, how often; absent: open, as without keys. */
  access?: KeyAccess | undefined;
  /** What `x-understudy-fault` headers need (the admin key); without it they are refused. */
  faultHeaders?: FaultHeaderDeps;
}

/**
 * One flow for every inbound API: read the body under the limit, parse it once into the
 * canonical request, resolve the route, run the engine, and render the answer in the client's
 * own wire format.
 */
export async function handleInference(api: InboundApi, req: IncomingMessage, res: ServerResponse, requestId: string, deps: InferenceDeps): Promise<void> {
  const read = await readAuthenticatedBody(api, req, res, requestId, deps);
  if (!read) return;
  const { caller, body, base, reject } = read;
  const injected = faultFromHeaders(req.headers, deps.faultHeaders);
  if (!injected.ok) return reject(injected.error);
  const costCap = maxExtraCostHeader(req.headers);
  if (!costCap.ok) return reject(costCap.error);
  const parsed = api.parse(body, req.headers);
  if (!parsed.ok) return reject(parsed.error);
  const request = parsed.request;
  const tooMany = requestLimitError(request, deps.maxMessages);
  if (tooMany) return reject(tooMany);
  const resolution = await admitChat(deps.access, caller, deps.catalog, request);
  if (!resolution.ok) return reject(resolution.error, request.model, { ...base, ...resolution.headers });

  const route = resolution.route;
  const cancel = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) cancel.abort();
  });
  onGraceOver(deps.graceOver, res, () => cancel.abort());
  const stream = request.stream === true;
  const session = req.headers['x-understudy-session'];
  const result = resolution.settle(await deps.engine.run(route, request, { requestId, stream, signal: cancel.signal, session: Array.isArray(session) ? session[0] : session,
    fault: injected.fault,
    maxExtraCost: costCap.value,
    ...resolution.run,
  }));

  if (result.type === 'error') {
    sendApiError(res, api, result.error, failureHeaders(requestId, route.name, result.attempts), result.attempts);
    return;
  }
  const headers = servedHeaders(requestId, result.served);
  if (result.type === 'response') {
    sendJson(res, 200, api.responseBody(result.response, parsed.encoderOptions), headers);
    return;
  }
  if (res.destroyed || res.headersSent) {
    // Gone, or already answered (a shutdown's 503): start and stop the stream so the engine records the cancel and releases the upstream call.
    for await (const _item of result.items) break;
    return;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  await writeSse(res, result.served, untilGraceOver(result.items, deps.graceOver), api.streamEncoder(parsed.encoderOptions));
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
