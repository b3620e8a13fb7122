import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Catalog } from '../engine/catalog.js';
import type { Logger } from '../telemetry/logger.js';
import { handleChatCompletions, type ChatHandlerDeps } from './chat-completions.js';
import { badRequest, sendError, sendJson } from './respond.js';

export interface AppDeps extends ChatHandlerDeps {
  catalog: Catalog;
  logger: Logger;
  startedAt: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void> | void;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The HTTP surface on node:http: a fixed route table, an error shape for everything else. */
export function createApp(deps: AppDeps): Server {
  const chat = { POST: (req, res, id) => handleChatCompletions(req, res, id, deps) } satisfies Record<string, Handler>;
  const models = { GET: (_req, res) => sendModels(res, deps.catalog, deps.startedAt) } satisfies Record<string, Handler>;
  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/v1/chat/completions': chat,
    '/chat/completions': chat,
    '/v1/models': models,
    '/models': models,
    '/health': { GET: (_req, res) => sendJson(res, 200, JSON.stringify({ status: 'ok' })) },
  };

  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const methods = routes[path];
    const handler = methods?.[req.method ?? ''];
    if (!methods) {
      sendError(res, badRequest(`Unknown path ${path}. This gateway serves POST /v1/chat/completions, GET /v1/models and GET /health.`, 'not_found', null, 404), { 'x-request-id': requestId });
      req.resume();
      return;
    }
    if (!handler) {
      const allow = Object.keys(methods).join(', ');
      sendError(res, badRequest(`Method ${req.method ?? ''} is not allowed on ${path}; use ${allow}.`, 'method_not_allowed', null, 405), { 'x-request-id': requestId, allow });
      req.resume();
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res, requestId))
      .catch((error: unknown) => {
        deps.logger.error({ err: error, request_id: requestId }, 'unhandled error in request handler');
        if (!res.headersSent) {
          sendError(res, { status: 500, message: 'Internal error in the gateway.', type: 'server_error', code: 'internal_error', param: null }, { 'x-request-id': requestId });
        } else {
          res.destroy();
        }
      });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function sendModels(res: ServerResponse, catalog: Catalog, startedAt: number): void {
  const created = Math.floor(startedAt / 1000);
  const data = catalog.listModels().map((m) => ({ id: m.id, object: 'model', created, owned_by: m.ownedBy }));
  sendJson(res, 200, JSON.stringify({ object: 'list', data }));
}
