import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';
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
  const reject = (error: ClientError, route = '', headers: Record<string, string> = base): void => {
    deps.onRejected(requestId, route, error.status, error.code ?? 'invalid_request');
    sendApiError(res, openAIApi, error, headers);
  };
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
  const resolution = deps.catalog.resolveEmbeddings(request.model, request.fallback_models ?? []);
  if (!resolution.ok) return reject(resolution.error, request.model);

  const route = resolution.route;
  const cancel = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) cancel.abort();
  });
  const result = await deps.engine.embed(route, request, { requestId, signal: cancel.signal });
  if (result.type === 'error') {
    sendApiError(res, openAIApi, result.error, failureHeaders(requestId, route.name, result.attempts), result.attempts);
    return;
  }
  sendJson(res, 200, embeddingsResponseBody(result.response, request.encoding_format ?? 'float'), servedHeaders(requestId, result.served));
}
