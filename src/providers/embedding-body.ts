import { decodeFloat32Base64 } from '../canonical/float32-base64.js';
import { UpstreamFailure } from '../canonical/failure.js';
import { scrub } from './scrub.js';

/** Reading embeddings bodies, shared by every wire format: JSON, vectors, and the failure for anything else. */

export function malformedEmbeddings(code: string, message: string): UpstreamFailure {
  return new UpstreamFailure({ kind: 'malformed_response', code, message });
}

/** The parsed body, or a `malformed_response` quoting (scrubbed) the start of what came instead. */
export function parseEmbeddingsJson(text: string, secrets: readonly string[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformedEmbeddings('invalid_json', `upstream body is not JSON: ${scrub(text.slice(0, 120), secrets)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw malformedEmbeddings('not_embeddings', 'upstream body is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** A vector as numbers: a JSON array of finite numbers, or (OpenAI's wire only) base64 float32. Undefined for anything else. */
export function readVector(value: unknown, base64: boolean): number[] | undefined {
  if (typeof value === 'string') return base64 ? decodeFloat32Base64(value) : undefined;
  if (!Array.isArray(value)) return undefined;
  for (const n of value) if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  return value as number[];
}
