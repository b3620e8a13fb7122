import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';
import { admitEmbeddings, authenticate } from './auth.js';
import { parseEmbeddingsRequest } from './embeddings-request.js';
import { embeddingsResponseBody } from './embeddings-response.js';
import { sendApiError, type InferenceDeps } from './handle-inference.js';
import { openAIApi } from './inbound/openai-api.js';
import { readBody } from './read-body.js';
import { badRequest, sendJson } from './respond.js';
import { failureHeaders, servedHeaders } from './understudy-headers.js';

/**
 * `POST /v1/embeddings`: read the body under the limit, validate it, resolve an embeddings route
 * (or a direct provider/model), run the engine, and answer in OpenAI's shape with the same
 * `x-understudy-*` headers as chat. Errors are OpenAI's error shape; bad input is still logged.
 */
export async function handleEmbeddings(req: IncomingMessage, res: ServerResponse, requestId: string, deps: InferenceDeps): Promise<void> {
  const base = { 'x-request-id': requestId };
  let keyId: string | undefined;
  const reject = (error: ClientError, route = '', headers: Record<string, string> = base): void => {
    deps.onRejected(requestId, route, error.status, error.code ?? 'invalid_request', keyId);
    sendApiError(res, openAIApi, error, headers);
  };
  // The key first (headers only): a client without a valid one is refused before its body is read.
  const auth = await authenticate(req.headers, deps.access);
  keyId = auth.ok ? auth.caller.key?.id : auth.keyId;
  if (!auth.ok) {
    req.resume();
    return reject(auth.error, '', { ...base, ...auth.headers });
  }
  const body = await readBody(req, deps.bodyLimitBytes);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      reject(badRequest(`The request body exceeds the limit of ${deps.bodyLimitBytes} bytes.`, 'request_too_large', null, 413), '', { ...base, connection: 'close' });
    }
    return;
  }
  const parsed = parseEmbeddingsRequest(body.body);
  if (!parsed.ok) return reject(parsed.error);
  const request = parsed.request;
  const resolution = await admitEmbeddings(deps.access, auth.caller, deps.catalog, request);
  if (!resolution.ok) return reject(resolution.error, request.model, { ...base, ...resolution.headers });

  const route = resolution.route;
  const cancel = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) cancel.abort();
  });
  const result = resolution.settle(await deps.engine.embed(route, request, { requestId, signal: cancel.signal, ...resolution.run }));
  if (result.type === 'error') {
    sendApiError(res, openAIApi, result.error, failureHeaders(requestId, route.name, result.attempts), result.attempts);
    return;
  }
  sendJson(res, 200, embeddingsResponseBody(result.response, request.encoding_format ?? 'float'), servedHeaders(requestId, result.served));
}
