import type { FailureDetails } from '../../canonical/failure.js';
import { classifyHttpError, readErrorBody } from '../openai/errors.js';

/** Azure's marker for a request its content filter blocked (`error.innererror.code`). */
const POLICY_VIOLATION = 'ResponsibleAIPolicyViolation';

interface FilterResult {
  filtered?: unknown;
  severity?: unknown;
  detected?: unknown;
}

/**
 * Azure OpenAI errors: OpenAI's classification (429 with `retry-after`/`retry-after-ms` →
 * rate_limited, 401 → upstream_auth, 404 DeploymentNotFound → model_not_found, …), plus the
 * content filter: a 400 with `code: content_filter` or `innererror.code:
 * ResponsibleAIPolicyViolation` is content_policy, and its message leads with the categories that
 * tripped (`filtered: hate (high), self_harm (high) — <Azure's message>`).
 */
export function classifyAzureHttpError(
  status: number,
  bodyText: string,
  retryAfterMs: number | undefined,
  secrets: readonly string[],
): FailureDetails {
  const details = classifyHttpError(status, bodyText, retryAfterMs, secrets);
  const inner = innerError(bodyText);
  if (inner?.code === POLICY_VIOLATION) details.kind = 'content_policy';
  if (details.kind !== 'content_policy') return details;
  const categories = filteredCategories(inner?.content_filter_result ?? inner?.content_filter_results);
  if (categories.length > 0) details.message = `filtered: ${categories.join(', ')} — ${details.message}`;
  return details;
}

/**
 * The categories a filter result blocked, e.g. `['hate (high)', 'jailbreak (detected)']`. Reads
 * the wire's `content_filter_result` and the spec's `content_filter_results` alike; the docs'
 * `self-harm` is named `self_harm` as in the spec.
 */
export function filteredCategories(results: unknown): string[] {
  if (typeof results !== 'object' || results === null) return [];
  const out: string[] = [];
  for (const [name, value] of Object.entries(results as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue;
    const result = value as FilterResult;
    if (result.filtered !== true) continue;
    const label = name.replace(/-/g, '_');
    const detail = typeof result.severity === 'string' ? result.severity : result.detected === true ? 'detected' : undefined;
    out.push(detail ? `${label} (${detail})` : label);
  }
  return out;
}

interface InnerError {
  code?: unknown;
  content_filter_result?: unknown;
  content_filter_results?: unknown;
}

/** `error.innererror` (wire) or `error.inner_error` (spec) of an Azure error body. */
function innerError(bodyText: string): InnerError | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  const error = readErrorBody(parsed) as { innererror?: unknown; inner_error?: unknown } | undefined;
  const inner = error?.innererror ?? error?.inner_error;
  return typeof inner === 'object' && inner !== null ? (inner as InnerError) : undefined;
}
