import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';
import { authenticate, type Caller } from './auth.js';
import { sendApiError, type InferenceDeps } from './handle-inference.js';
import type { InboundApi } from './inbound/inbound-api.js';
import { bodyLimitError } from './input-limits.js';
import { readBody } from './read-body.js';
import { badRequest } from './respond.js';

/** Answers a request refused before the engine ran, in `api`'s error shape, and records it. */
export type Reject = (error: ClientError, route?: string, headers?: Record<string, string>) => void;

export interface ReadRequest {
  caller: Caller;
  body: Buffer;
  /** Headers every answer carries. */
  base: Record<string, string>;
  reject: Reject;
}

/**
 * The preamble every inference endpoint shares: the key first (headers only — a client without a
 * valid one is refused before its body is read), then the body under the size limit and the JSON
 * depth limit. Undefined when the request was already answered.
 */
export async function readAuthenticatedBody(api: InboundApi, req: IncomingMessage, res: ServerResponse, requestId: string, deps: InferenceDeps): Promise<ReadRequest | undefined> {
  const base = { 'x-request-id': requestId };
  let keyId: string | undefined;
  const reject: Reject = (error, route = '', headers = base) => {
    deps.onRejected(requestId, route, error.status, error.code ?? 'invalid_request', keyId);
    sendApiError(res, api, error, headers);
  };
  const auth = await authenticate(req.headers, deps.access);
  keyId = auth.ok ? auth.caller.key?.id : auth.keyId;
  if (!auth.ok) {
    req.resume();
    reject(auth.error, '', { ...base, ...auth.headers });
    return undefined;
  }
  const body = await readBody(req, deps.bodyLimitBytes);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      reject(badRequest(`The request body exceeds the limit of ${deps.bodyLimitBytes} bytes.`, 'request_too_large', null, 413), '', { ...base, connection: 'close' });
    }
    return undefined;
  }
  const tooDeep = bodyLimitError(body.body, deps.maxJsonDepth);
  if (tooDeep) {
    reject(tooDeep);
    return undefined;
  }
  return { caller: auth.caller, body: body.body, base, reject };
}
