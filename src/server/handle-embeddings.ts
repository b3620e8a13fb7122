import type { IncomingMessage, ServerResponse } from 'node:http';
import { admitEmbeddings } from './auth.js';
import { parseEmbeddingsRequest } from './embeddings-request.js';
import { embeddingsResponseBody } from './embeddings-response.js';
import { sendApiError, type InferenceDeps } from './handle-inference.js';
import { openAIApi } from './inbound/openai-api.js';
import { sendJson } from './respond.js';
import { failureHeaders, servedHeaders } from './understudy-headers.js';
import { readAuthenticatedBody } from './read-request.js';

/**
 * `POST /v1/embeddings`: read the body under the limit, validate it, resolve an embeddings route
 * (or a direct provider/model), run the engine, and answer in OpenAI's shape with the same
 * `x-understudy-*` headers as chat. Errors are OpenAI's error shape; bad input is still logged.
 */
export async function handleEmbeddings(req: IncomingMessage, res: ServerResponse, requestId: string, deps: InferenceDeps): Promise<void> {
  const read = await readAuthenticatedBody(openAIApi, req, res, requestId, deps);
  if (!read) return;
  const { caller, body, base, reject } = read;
  const parsed = parseEmbeddingsRequest(body);
  if (!parsed.ok) return reject(parsed.error);
  const request = parsed.request;
  const resolution = await admitEmbeddings(deps.access, caller, deps.catalog, request);
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
