import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Catalog } from '../engine/catalog.js';
import type { Logger } from '../telemetry/logger.js';
import { handleEmbeddings } from './handle-embeddings.js';
import { handleInference, sendApiError, type InferenceDeps } from './handle-inference.js';
import { handleModels } from './handle-models.js';
import { anthropicApi } from './inbound/anthropic/api.js';
import type { InboundApi } from './inbound/inbound-api.js';
import { openAIApi } from './inbound/openai-api.js';
import { badRequest, sendJson } from './respond.js';
import { handleAdmin, type AdminDeps } from './admin/admin-api.js';
import type { Drain } from './drain.js';
import { sendLive, sendReady, type ReadinessDeps } from './health.js';
import { answerClientError, httpServerOptions, type HttpLimits } from './http-options.js';

export interface AppDeps extends InferenceDeps {
  catalog: Catalog;
  logger: Logger;
  startedAt: number;
  /** The admin API (`/admin/...`); without it every admin path is a 404. */
  admin?: AdminDeps;
  /** node:http's limits (header size, request and idle timeouts); Node's defaults when absent. */
  http?: HttpLimits;
  /** Graceful shutdown: tracks requests in flight and refuses new ones while draining. */
  drain?: Drain;
  /** What `/health/ready` checks; without it readiness is the config and the drain alone. */
  readiness?: ReadinessDeps;
  /** Prometheus metrics for `GET /metrics` (telemetry/metrics.ts). */
  metrics?: { render(): Promise<{ contentType: string; body: string }> };
}

type Handler = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void> | void;

interface PathEntry {
  /** The API whose error shape this path answers in. */
  api: InboundApi;
  methods: Partial<Record<string, Handler>>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SERVED_PATHS = 'POST /v1/chat/completions, POST /v1/messages, POST /v1/embeddings, GET /v1/models, GET /health, GET /health/live and GET /health/ready';

/** The HTTP surface on node:http: a fixed route table, each API's error shape for everything else. */
export function createApp(deps: AppDeps): Server {
  const inference = (api: InboundApi): Handler => (req, res, id) => handleInference(api, req, res, id, deps);
  const readiness: ReadinessDeps = deps.readiness ?? { startedAt: deps.startedAt, now: () => Date.now(), ...(deps.drain ? { drain: deps.drain } : {}) };
  const chat: PathEntry = { api: openAIApi, methods: { POST: inference(openAIApi) } };
  const messages: PathEntry = { api: anthropicApi, methods: { POST: inference(anthropicApi) } };
  const embeddings: PathEntry = { api: openAIApi, methods: { POST: (req, res, id) => handleEmbeddings(req, res, id, deps) } };
  const models: PathEntry = { api: openAIApi, methods: { GET: (req, res, id) => handleModels(req, res, id, deps) } };
  const paths: Record<string, PathEntry> = {
    '/v1/chat/completions': chat,
    '/chat/completions': chat,
    '/v1/messages': messages,
    '/v1/embeddings': embeddings,
    '/embeddings': embeddings,
    '/v1/models': models,
    '/models': models,
    '/health': { api: openAIApi, methods: { GET: (_req, res) => sendJson(res, 200, JSON.stringify({ status: 'ok' })) } },
    '/health/live': { api: openAIApi, methods: { GET: (_req, res) => sendLive(res, readiness) } },
    '/health/ready': { api: openAIApi, methods: { GET: (_req, res) => sendReady(res, readiness) } },
  };
  const metrics = deps.metrics;
  if (metrics) {
    paths['/metrics'] = {
      api: openAIApi,
      methods: {
        GET: async (_req, res) => {
          const { contentType, body } = await metrics.render();
          res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
        },
      },
    };
  }

  const server = createServer(httpServerOptions(deps.http), (req, res) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const base = { 'x-request-id': requestId };
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    // The admin API routes its own paths and methods, after checking the admin key.
    const admin = path === '/admin' || path.startsWith('/admin/');
    const entry = admin ? { api: openAIApi, methods: {} } : paths[path];
    const handler: Handler | undefined = admin ? (r, s, id) => handleAdmin(r, s, id, path, deps.admin) : entry?.methods[req.method ?? ''];
    if (!entry) {
      sendApiError(res, openAIApi, badRequest(`Unknown path ${path}. This gateway serves ${SERVED_PATHS}.`, 'not_found', null, 404), base);
      req.resume();
      return;
    }
    if (!handler) {
      const allow = Object.keys(entry.methods).join(', ');
      sendApiError(res, entry.api, badRequest(`Method ${req.method ?? ''} is not allowed on ${path}; use ${allow}.`, 'method_not_allowed', null, 405), { ...base, allow });
      req.resume();
      return;
    }
    // While draining, new requests (on connections still open) are refused; health checks still answer.
    if (deps.drain && !deps.drain.admit(res, entry.api, base, path.startsWith('/health'))) {
      req.resume();
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res, requestId))
      .catch((error: unknown) => {
        deps.logger.error({ err: error, request_id: requestId }, 'unhandled error in request handler');
        if (!res.headersSent) {
          sendApiError(res, entry.api, { status: 500, message: 'Internal error in the gateway.', type: 'server_error', code: 'internal_error', param: null }, base);
        } else {
          res.destroy();
        }
      });
  });
  server.on('clientError', answerClientError);
  return server;
}
