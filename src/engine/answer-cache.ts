import { createHash } from 'node:crypto';
import type { ChatRequest, ChatResponse } from '../canonical/chat.js';
import type { StateStore } from '../state/state-store.js';
import type { CacheRung, Route } from './route.js';

/**
 * The `cache` degradation rung: the last good answer to an identical request, for when every live
 * rung has failed. "Identical" means the same route and partition and the same request apart
 * from how it is delivered (`stream`, `stream_options`) and Understudy's own fields. The partition
 * is the client's virtual key id (`RunContext.keyId`), so no tenant is ever served another's
 * answer; in open mode (no keys) every client shares the `anonymous` partition of its route.
 */
const DELIVERY_FIELDS = new Set(['stream', 'stream_options', 'fallback_models', 'user']);

export const ANONYMOUS_PARTITION = 'anonymous';

export function cacheScope(route: string, partition: string): string {
  return `${partition}\u0000${route}`;
}

/** A stable hash of what the answer depends on (keys sorted, so field order does not matter). */
export function answerKey(request: ChatRequest): string {
  const essentials: Record<string, unknown> = {};
  for (const key of Object.keys(request).sort()) if (!DELIVERY_FIELDS.has(key)) essentials[key] = request[key];
  return createHash('sha256').update(stableJson(essentials)).digest('base64url');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The route's cache rung, if it has one. */
export function cacheRungOf(route: Route): CacheRung | undefined {
  for (const rung of route.ladder) if (rung.type === 'cache') return rung;
  return undefined;
}

/** Stores a live answer for later degradation (never awaited on the request's path; failures are dropped). */
export function rememberAnswer(state: StateStore, scope: string, key: string, rung: CacheRung, response: ChatResponse, now: number): void {
  state.putCachedAnswer(scope, key, JSON.stringify({ response, storedAt: now }), now + rung.maxAgeMs, rung.maxEntries).catch(() => undefined);
}

export interface CachedAnswer {
  response: ChatResponse;
  storedAt: number;
}

export function readCachedAnswer(text: string): CachedAnswer | undefined {
  try {
    const parsed = JSON.parse(text) as CachedAnswer;
    return parsed && typeof parsed.storedAt === 'number' && Array.isArray(parsed.response?.choices) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
