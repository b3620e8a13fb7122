import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ClientError } from '../../engine/all-failed.js';
import { BUDGET_PERIODS } from '../../keys/key-record.js';
import { issueKey, keySpecProblems, parseExpiry, type KeySpec, type KnownNames } from '../../keys/key-spec.js';
import type { KeyStore } from '../../keys/key-store.js';
import { keyView } from '../../keys/key-view.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Clock } from '../../time/clock.js';
import { sendApiError } from '../handle-inference.js';
import { openAIApi } from '../inbound/openai-api.js';
import { parseJsonRequest } from '../json-request.js';
import { readBody } from '../read-body.js';
import { badRequest, sendJson } from '../respond.js';

/** What `/admin/keys` needs; the admin key was checked before it is reached. */
export interface KeysAdminDeps {
  store: KeyStore;
  /** The config's route and provider names, which allow-lists are checked against. */
  known: KnownNames;
  clock: Clock;
  logger: Logger;
}

const BODY_LIMIT_BYTES = 64 * 1024;

/** `POST /admin/keys`: the CLI's options, in JSON. */
const createKeySchema = z.strictObject({
  name: z.string(),
  routes: z.array(z.string()).optional(),
  targets: z.array(z.string()).optional(),
  rpm: z.number().optional(),
  tpm: z.number().optional(),
  /** `30d`, `12h`, … from now, or an ISO 8601 time. */
  expires: z.string().optional(),
  budget: z.strictObject({ amount: z.number(), period: z.enum(BUDGET_PERIODS) }).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

/**
 * `/admin/keys`: `POST` issues a key (201, the plain key in the body — the only time it is ever
 * shown), `GET` lists them, `GET /admin/keys/{id}` shows one, `DELETE /admin/keys/{id}` revokes
 * it. Hashes are never returned.
 */
export async function handleKeysAdmin(req: IncomingMessage, res: ServerResponse, requestId: string, path: string, id: string | undefined, deps: KeysAdminDeps | undefined): Promise<void> {
  const base = { 'x-request-id': requestId };
  const fail = (error: ClientError, headers: Record<string, string> = base): void => {
    req.resume();
    sendApiError(res, openAIApi, error, headers);
  };
  if (!deps) return fail(badRequest('This gateway has no key store.', 'keys_disabled', null, 404));
  const method = req.method ?? '';
  if (id === undefined && method === 'GET') {
    req.resume();
    const now = deps.clock.now();
    return sendJson(res, 200, JSON.stringify({ object: 'list', data: (await deps.store.list()).map((r) => keyView(r, now)) }), base);
  }
  if (id === undefined && method === 'POST') return createKey(req, res, requestId, deps);
  if (id !== undefined && method === 'GET') {
    req.resume();
    const record = await deps.store.get(id);
    if (!record) return fail(notFound(id));
    return sendJson(res, 200, JSON.stringify(keyView(record, deps.clock.now())), base);
  }
  if (id !== undefined && method === 'DELETE') {
    req.resume();
    const now = deps.clock.now();
    const revoked = await deps.store.revoke(id, new Date(now).toISOString());
    if (!revoked) return fail(notFound(id));
    deps.logger.warn({ request_id: requestId, key_id: id }, 'admin: key revoked');
    return sendJson(res, 200, JSON.stringify(keyView(revoked, now)), base);
  }
  const allow = id === undefined ? 'GET, POST' : 'GET, DELETE';
  return fail(badRequest(`Method ${method} is not allowed on ${path}; use ${allow}.`, 'method_not_allowed', null, 405), { ...base, allow });
}

async function createKey(req: IncomingMessage, res: ServerResponse, requestId: string, deps: KeysAdminDeps): Promise<void> {
  const base = { 'x-request-id': requestId };
  const body = await readBody(req, BODY_LIMIT_BYTES);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      sendApiError(res, openAIApi, badRequest(`The request body exceeds the limit of ${BODY_LIMIT_BYTES} bytes.`, 'request_too_large', null, 413), { ...base, connection: 'close' });
    }
    return;
  }
  const parsed = parseJsonRequest(body.body, createKeySchema);
  if (!parsed.ok) return sendApiError(res, openAIApi, parsed.error, base);
  const now = deps.clock.now();
  const { expires, ...rest } = parsed.value;
  const spec: KeySpec = { ...rest };
  if (expires !== undefined) {
    const at = parseExpiry(expires, now);
    if (!at.ok) return sendApiError(res, openAIApi, badRequest(`Invalid value for 'expires': ${at.problem}.`, 'invalid_value', 'expires'), base);
    spec.expiresAt = at.at;
  }
  const problem = keySpecProblems(spec, deps.known, now)[0];
  if (problem) return sendApiError(res, openAIApi, badRequest(`Invalid value for '${problem.field}': ${problem.message}.`, 'invalid_value', problem.field), base);
  const { plain, record } = issueKey(spec, now);
  await deps.store.create(record);
  deps.logger.warn({ request_id: requestId, key_id: record.id, name: record.name }, 'admin: key created');
  sendJson(res, 201, JSON.stringify({ ...keyView(record, now), key: plain }), { ...base, location: `/admin/keys/${record.id}`, 'cache-control': 'no-store' });
}

function notFound(id: string): ClientError {
  return badRequest(`No key ${id}.`, 'key_not_found', null, 404);
}
