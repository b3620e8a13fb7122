import type { IncomingHttpHeaders } from 'node:http';
import { injectedFault } from '../config/resolve.js';
import { faultSchema } from '../config/schema.js';
import type { ClientError } from '../engine/all-failed.js';
import { RequestFault } from '../providers/fault-injection.js';
import { ADMIN_KEY_HEADER, type AdminKey } from './admin/admin-key.js';
import { badRequest } from './respond.js';

export const FAULT_HEADER = 'x-understudy-fault';
export const FAULT_TARGET_HEADER = 'x-understudy-fault-target';

export interface FaultHeaderDeps {
  /** `server.admin_key`; undefined: fault headers are always refused. */
  key: AdminKey | undefined;
  /** Undefined for a target a fault may name, else why not. */
  checkTarget: (id: string) => string | undefined;
}

export type HeaderFault = { ok: true; fault: RequestFault | undefined } | { ok: false; error: ClientError };

/**
 * The fault an inference request carries: `x-understudy-fault: <fault as JSON, as in config>`,
 * optionally `x-understudy-fault-target: provider/model`. Honoured only with a valid
 * `x-understudy-admin-key` (else 403); a request without either header carries none.
 */
export function faultFromHeaders(headers: IncomingHttpHeaders, deps: FaultHeaderDeps | undefined): HeaderFault {
  const text = headers[FAULT_HEADER];
  const target = headers[FAULT_TARGET_HEADER];
  if (text === undefined && target === undefined) return { ok: true, fault: undefined };
  if (!deps?.key) {
    return refused(`${FAULT_HEADER} is refused: this gateway has no admin key (set server.admin_key to allow fault injection by header).`);
  }
  const presented = headers[ADMIN_KEY_HEADER];
  if (!deps.key.matches(typeof presented === 'string' ? presented : undefined)) {
    return refused(`${FAULT_HEADER} needs a valid ${ADMIN_KEY_HEADER} header on the same request.`);
  }
  if (typeof text !== 'string') return invalid(`${FAULT_TARGET_HEADER} needs ${FAULT_HEADER} (the fault to inject, as JSON).`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return invalid(`${FAULT_HEADER} is not JSON; send a fault as in config, e.g. {"kind":"status","status":503}.`);
  }
  const parsed = faultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at '${issue.path.join('.')}'` : '';
    return invalid(`${FAULT_HEADER} is not a valid fault${where}: ${issue?.message ?? 'invalid'}.`);
  }
  if (target !== undefined) {
    const unknown = typeof target === 'string' ? deps.checkTarget(target) : 'expected one provider/model';
    if (unknown) return invalid(`${FAULT_TARGET_HEADER}: ${unknown}.`);
  }
  return { ok: true, fault: new RequestFault(injectedFault(parsed.data), typeof target === 'string' ? target : undefined) };
}

function refused(message: string): HeaderFault {
  return { ok: false, error: badRequest(message, 'fault_injection_forbidden', null, 403) };
}

function invalid(message: string): HeaderFault {
  return { ok: false, error: badRequest(message, 'invalid_fault_header') };
}
