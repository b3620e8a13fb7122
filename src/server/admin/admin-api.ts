import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { formatPath } from '../../config/config-error.js';
import { faultRule, type ResolveProblem } from '../../config/resolve.js';
import { faultRuleSchema } from '../../config/schema.js';
import type { ProviderConfig } from '../../config/types.js';
import type { ClientError } from '../../engine/all-failed.js';
import { MAX_ADMIN_FAULTS, type FaultBook } from '../../providers/fault-book.js';
import type { FaultRule } from '../../providers/fault-injection.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Clock } from '../../time/clock.js';
import { sendApiError } from '../handle-inference.js';
import { openAIApi } from '../inbound/openai-api.js';
import { parseJsonRequest } from '../json-request.js';
import { readBody } from '../read-body.js';
import { badRequest, sendJson } from '../respond.js';
import { presentedAdminKey, type AdminKey } from './admin-key.js';
import { faultView, wireFault } from './fault-json.js';
import { handleKeysAdmin, type KeysAdminDeps } from './keys-api.js';

export interface AdminDeps {
  /** `server.admin_key`; undefined: the admin API answers 404 to everything. */
  key: AdminKey | undefined;
  faults: FaultBook;
  /** Undefined for a target a fault may name, else why not. */
  checkTarget: (id: string) => string | undefined;
  providers: Record<string, ProviderConfig>;
  clock: Clock;
  logger: Logger;
  /** `/admin/keys` (virtual keys); absent: those paths answer 404 keys_disabled. */
  keys?: KeysAdminDeps | undefined;
}

const ADMIN_BODY_LIMIT_BYTES = 64 * 1024;
const ADMIN_PATHS = 'GET /admin/faults, POST /admin/faults, DELETE /admin/faults/{id}, GET /admin/keys, POST /admin/keys, GET /admin/keys/{id} and DELETE /admin/keys/{id}';

/** A config `faults:` entry, plus how long it lasts. */
const addFaultSchema = faultRuleSchema.extend({ duration_ms: z.number().int().positive().optional() });

/**
 * The admin API (`/admin/...`): JSON, OpenAI's error shape, no CORS headers. Every call needs the
 * admin key; without `server.admin_key` in the config the whole surface is a 404.
 */
export async function handleAdmin(req: IncomingMessage, res: ServerResponse, requestId: string, path: string, deps: AdminDeps | undefined): Promise<void> {
  const base = { 'x-request-id': requestId };
  const fail = (error: ClientError, headers: Record<string, string> = base): void => {
    req.resume();
    sendApiError(res, openAIApi, error, headers);
  };
  if (!deps?.key) {
    return fail(badRequest('The admin API is disabled: set server.admin_key (e.g. ${env:UNDERSTUDY_ADMIN_KEY}) to enable it.', 'admin_disabled', null, 404));
  }
  if (!deps.key.matches(presentedAdminKey(req.headers))) {
    const message = 'Missing or wrong admin key: send it as Authorization: Bearer <key> or x-understudy-admin-key: <key>.';
    return fail({ status: 401, message, type: 'invalid_request_error', code: 'invalid_admin_key', param: null }, { ...base, 'www-authenticate': 'Bearer realm="understudy-admin"' });
  }
  const [, , resource, id, ...rest] = path.split('/');
  if (resource === 'keys' && id !== '' && rest.length === 0) return handleKeysAdmin(req, res, requestId, path, id, deps.keys);
  if (resource !== 'faults' || id === '' || rest.length > 0) {
    return fail(badRequest(`Unknown admin path ${path}. The admin API serves ${ADMIN_PATHS}.`, 'not_found', null, 404));
  }
  const method = req.method ?? '';
  if (id === undefined && method === 'GET') return listFaults(req, res, base, deps);
  if (id === undefined && method === 'POST') return addFault(req, res, requestId, deps);
  if (id !== undefined && method === 'DELETE') return deleteFault(req, res, requestId, id, deps);
  const allow = id === undefined ? 'GET, POST' : 'DELETE';
  return fail(badRequest(`Method ${method} is not allowed on ${path}; use ${allow}.`, 'method_not_allowed', null, 405), { ...base, allow });
}

function listFaults(req: IncomingMessage, res: ServerResponse, base: Record<string, string>, deps: AdminDeps): void {
  req.resume();
  const now = deps.clock.now();
  sendJson(res, 200, JSON.stringify({ object: 'list', data: deps.faults.list().map((entry) => faultView(entry, now)) }), base);
}

async function addFault(req: IncomingMessage, res: ServerResponse, requestId: string, deps: AdminDeps): Promise<void> {
  const base = { 'x-request-id': requestId };
  const body = await readBody(req, ADMIN_BODY_LIMIT_BYTES);
  if (!body.ok) {
    if (body.reason === 'too_large') {
      sendApiError(res, openAIApi, badRequest(`The request body exceeds the limit of ${ADMIN_BODY_LIMIT_BYTES} bytes.`, 'request_too_large', null, 413), { ...base, connection: 'close' });
    }
    return;
  }
  const parsed = parseJsonRequest(body.body, addFaultSchema);
  if (!parsed.ok) return sendApiError(res, openAIApi, parsed.error, base);
  const { duration_ms: durationMs, ...raw } = parsed.value;
  const built = buildRule(raw, durationMs, deps);
  if (!built.ok) return sendApiError(res, openAIApi, built.error, base);
  if (deps.faults.adminCount >= MAX_ADMIN_FAULTS) {
    const message = `At most ${MAX_ADMIN_FAULTS} admin fault rules can exist at once; delete some first.`;
    return sendApiError(res, openAIApi, badRequest(message, 'too_many_faults', null, 409), base);
  }
  const entry = deps.faults.add(built.rule);
  const view = faultView(entry, deps.clock.now());
  deps.logger.warn(
    { request_id: requestId, fault_id: entry.id, target: view.target, fault: wireFault(entry.rule.fault), fraction: view.fraction, expires_at: view.expires_at },
    'admin: fault rule added',
  );
  sendJson(res, 201, JSON.stringify(view), { ...base, location: `/admin/faults/${entry.id}` });
}

type Built = { ok: true; rule: FaultRule } | { ok: false; error: ClientError };

/** The config's own resolution of a fault rule, then the checks only a runtime rule needs. */
function buildRule(raw: z.infer<typeof faultRuleSchema>, durationMs: number | undefined, deps: AdminDeps): Built {
  const unknown = deps.checkTarget(raw.target);
  if (unknown) return { ok: false, error: badRequest(`Invalid value for 'target': ${unknown}.`, 'unknown_target', 'target') };
  const problems: ResolveProblem[] = [];
  const rule = faultRule(raw, 0, deps.providers, problems);
  const problem = problems[0];
  if (problem) {
    const param = formatPath(problem.path.slice(2));
    return { ok: false, error: badRequest(`Invalid value for '${param}': ${problem.message}.`, 'invalid_value', param) };
  }
  const now = deps.clock.now();
  if (durationMs !== undefined) rule.untilMs = Math.min(rule.untilMs ?? Number.POSITIVE_INFINITY, now + durationMs);
  if (rule.untilMs !== undefined && rule.untilMs <= now) {
    return { ok: false, error: badRequest("Invalid value for 'until': the rule would already be over.", 'invalid_value', 'until') };
  }
  if (rule.fromMs !== undefined && rule.untilMs !== undefined && rule.fromMs >= rule.untilMs) {
    return { ok: false, error: badRequest("Invalid value for 'from': the rule would end before it starts.", 'invalid_value', 'from') };
  }
  return { ok: true, rule };
}

async function deleteFault(req: IncomingMessage, res: ServerResponse, requestId: string, id: string, deps: AdminDeps): Promise<void> {
  req.resume();
  const base = { 'x-request-id': requestId };
  const removed = deps.faults.remove(id);
  switch (removed) {
    case 'removed':
      deps.logger.warn({ request_id: requestId, fault_id: id }, 'admin: fault rule deleted');
      res.writeHead(204, base);
      res.end();
      return;
    case 'config':
      return sendApiError(res, openAIApi, badRequest(`Fault rule ${id} comes from the config file; remove it there and restart.`, 'config_fault', null, 409), base);
    case 'not_found':
      return sendApiError(res, openAIApi, badRequest(`No fault rule ${id} (it may have expired).`, 'fault_not_found', null, 404), base);
  }
}
