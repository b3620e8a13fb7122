import type { z } from 'zod';
import { formatPath } from '../config/config-error.js';
import type { ClientError } from '../engine/all-failed.js';
import { badRequest } from './respond.js';

export type ParsedJson<T> = { ok: true; value: T } | { ok: false; error: ClientError };

/**
 * A JSON request body checked against `schema`, or a 400 in OpenAI's style naming the first
 * parameter at fault: `invalid_json`, `missing_required_parameter`, `invalid_type` or `invalid_value`.
 */
export function parseJsonRequest<T>(body: Buffer, schema: z.ZodType<T>): ParsedJson<T> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    const why = error instanceof Error ? error.message : 'parse error';
    return { ok: false, error: badRequest(`We could not parse the JSON body of your request: ${why}`, 'invalid_json') };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, error: badRequest('The request body must be a JSON object.', 'invalid_json') };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  if (!issue) return { ok: false, error: badRequest('Invalid request.', 'invalid_request') };
  const param = formatPath(issue.path);
  if (issue.code === 'invalid_type' && getIn(json, issue.path) === undefined) {
    return { ok: false, error: badRequest(`Missing required parameter: '${param}'.`, 'missing_required_parameter', param) };
  }
  const code = issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value';
  return { ok: false, error: badRequest(`Invalid value for '${param}': ${issue.message}.`, code, param) };
}

function getIn(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
