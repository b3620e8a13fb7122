import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Catalog } from '../engine/catalog.js';
import type { KeyAccess } from '../keys/access.js';
import { routeAllowed, targetAllowed } from '../keys/allow-list.js';
import type { KeyRecord } from '../keys/key-record.js';
import { authenticate, noUsableTarget } from './auth.js';
import { sendApiError } from './handle-inference.js';
import { openAIApi } from './inbound/openai-api.js';
import { sendJson } from './respond.js';

export interface ModelsDeps {
  catalog: Catalog;
  startedAt: number;
  access?: KeyAccess | undefined;
  onRejected: (requestId: string, route: string, status: number, reason: string, keyId?: string) => void;
}

/** `GET /v1/models`: every route and target, or — with a key — only those the key may use. */
export async function handleModels(req: IncomingMessage, res: ServerResponse, requestId: string, deps: ModelsDeps): Promise<void> {
  const base = { 'x-request-id': requestId };
  req.resume();
  const auth = await authenticate(req.headers, deps.access);
  if (!auth.ok) {
    deps.onRejected(requestId, '', auth.error.status, auth.error.code ?? 'unauthorized', auth.keyId);
    return sendApiError(res, openAIApi, auth.error, { ...base, ...auth.headers });
  }
  const key = auth.caller.key;
  const created = Math.floor(deps.startedAt / 1000);
  const data = deps.catalog
    .listModels()
    .filter((m) => !key || usable(key, m.id, deps.catalog))
    .map((m) => ({ id: m.id, object: 'model', created, owned_by: m.ownedBy }));
  sendJson(res, 200, JSON.stringify({ object: 'list', data }), base);
}

/** A route the key may name and that has a target it may use, or a target it may use. */
function usable(key: KeyRecord, id: string, catalog: Catalog): boolean {
  if (!catalog.hasRoute(id)) return targetAllowed(key, id);
  if (!routeAllowed(key, id)) return false;
  const chat = catalog.resolve(id);
  const embeddings = chat.ok ? undefined : catalog.resolveEmbeddings(id);
  const route = chat.ok ? chat.route : embeddings?.ok ? embeddings.route : undefined;
  return route !== undefined && noUsableTarget(key, route) === undefined;
}
