import type { IncomingHttpHeaders } from 'node:http';
import type { ChatRequest, Usage } from '../canonical/chat.js';
import { embeddingInputs, estimateEmbeddingTokens, type EmbeddingRequest } from '../canonical/embeddings.js';
import type { ClientError } from '../engine/all-failed.js';
import type { Catalog } from '../engine/catalog.js';
import type { EmbedResult } from '../engine/embed.js';
import type { EngineResult, StreamItem } from '../engine/engine.js';
import { outputTokenLimit, promptTokenEstimate } from '../engine/extra-cost.js';
import { promptBytes, promptText } from '../engine/prompt-size.js';
import type { EmbeddingRoute, Route } from '../engine/route.js';
import type { KeyAccess, LimitVerdict } from '../keys/access.js';
import { routeAllowed, targetAllowed } from '../keys/allow-list.js';
import { looksLikeKey } from '../keys/key-material.js';
import type { KeyRecord } from '../keys/key-record.js';

/**
 * Virtual keys on the HTTP side: who the caller is (401), what it may ask for (403), its rate
 * limits (429) — all before any upstream call — and the engine context that bounds its ladder.
 * Errors are ClientErrors, so each inbound API renders them in its own shape.
 */

/** The caller of one request: its key, or none in open mode. */
export interface Caller {
  key: KeyRecord | undefined;
}

export const OPEN_CALLER: Caller = { key: undefined };

export type Authenticated =
  | { ok: true; caller: Caller }
  /** `keyId`: a revoked or expired key's id, for the log line. */
  | { ok: false; error: ClientError; headers: Record<string, string>; keyId?: string };

/** What the engine gets from the caller's key: the record's key id, the cache partition and the target allow-list. */
export interface KeyRunContext {
  keyId?: string;
  allowTarget?: (targetId: string) => boolean;
}

export type Admitted<R, T> =
  | { ok: true; route: R; run: KeyRunContext; settle: (result: T) => T }
  | { ok: false; error: ClientError; headers?: Record<string, string> };

const WWW_AUTHENTICATE = { 'www-authenticate': 'Bearer realm="understudy"' };

/**
 * The key a request presents: `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key: <key>`
 * (Anthropic SDKs). When both are sent, the one that looks like a virtual key wins.
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer +(\S+) *$/i.exec(auth)?.[1] : undefined;
  const raw = headers['x-api-key'];
  const apiKey = typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
  if (bearer !== undefined && looksLikeKey(bearer)) return bearer;
  if (apiKey !== undefined && looksLikeKey(apiKey)) return apiKey;
  return bearer ?? apiKey;
}

/** Who sent the request; 401 when keys are required and it has no valid one. Never throws: a failing store is a 503. */
export async function authenticate(headers: IncomingHttpHeaders, access: KeyAccess | undefined): Promise<Authenticated> {
  if (!access) return { ok: true, caller: OPEN_CALLER };
  let identity: Awaited<ReturnType<KeyAccess['identify']>>;
  try {
    identity = await access.identify(presentedKey(headers));
  } catch {
    const error: ClientError = { status: 503, message: 'The key store is unavailable, so the API key cannot be checked. Try again shortly.', type: 'server_error', code: 'key_store_unavailable', param: null, retryAfterMs: 1_000 };
    return { ok: false, error, headers: {} };
  }
  switch (identity.type) {
    case 'open':
      return { ok: true, caller: OPEN_CALLER };
    case 'key':
      return { ok: true, caller: { key: identity.key } };
    case 'refused': {
      const key = identity.key;
      const refusal = unauthorized(identity.reason, key);
      return key ? { ok: false, error: refusal, headers: WWW_AUTHENTICATE, keyId: key.id } : { ok: false, error: refusal, headers: WWW_AUTHENTICATE };
    }
  }
}

function unauthorized(reason: 'missing' | 'unknown' | 'revoked' | 'expired', key: KeyRecord | undefined): ClientError {
  const error = (code: string, message: string): ClientError => ({ status: 401, message, type: 'invalid_request_error', code, param: null });
  switch (reason) {
    case 'missing':
      return error('missing_api_key', 'This gateway requires an API key: send it as Authorization: Bearer <key> or x-api-key: <key>.');
    case 'unknown':
      return error('invalid_api_key', 'Invalid API key.');
    case 'revoked':
      return error('revoked_api_key', `This API key (${key?.id ?? ''}) was revoked.`);
    case 'expired':
      return error('expired_api_key', `This API key (${key?.id ?? ''}) expired at ${key?.expires_at ?? ''}.`);
  }
}

/** A chat request's route, checked against the key's allow-lists and limits. */
export async function admitChat(access: KeyAccess | undefined, caller: Caller, catalog: Catalog, request: ChatRequest): Promise<Admitted<Route, EngineResult>> {
  const fallbacks = request.fallback_models ?? [];
  const key = caller.key;
  const denied = key ? modelDenied(key, request.model, fallbacks, catalog) : undefined;
  if (denied) return { ok: false, error: denied };
  const resolution = catalog.resolve(request.model, fallbacks);
  if (!resolution.ok) return resolution;
  if (!key || !access) return { ok: true, route: resolution.route, run: {}, settle: (result) => result };
  const unusable = noUsableTarget(key, resolution.route);
  if (unusable) return { ok: false, error: unusable };
  // tpm at admission: the prompt (UTF-8 bytes / 4) plus max_tokens; what the answer used beyond that is added after it.
  const prompt = key.tpm !== undefined ? promptTokenEstimate({ bytes: promptBytes(promptText(request), request.messages.length) }) : 0;
  const reserved = key.tpm !== undefined ? prompt + outputTokenLimit(request) : 0;
  const limited = await takeLimits(access, key, reserved);
  if (limited) return limited;
  const settle = (result: EngineResult): EngineResult => (key.tpm === undefined ? result : settleChat(result, prompt, (used) => access.addTokens(key, used - reserved)));
  return { ok: true, route: resolution.route, run: keyRunContext(key), settle };
}

/** An embeddings request's route, checked against the key's allow-lists and limits. */
export async function admitEmbeddings(access: KeyAccess | undefined, caller: Caller, catalog: Catalog, request: EmbeddingRequest): Promise<Admitted<EmbeddingRoute, EmbedResult>> {
  const fallbacks = request.fallback_models ?? [];
  const key = caller.key;
  const denied = key ? modelDenied(key, request.model, fallbacks, catalog) : undefined;
  if (denied) return { ok: false, error: denied };
  const resolution = catalog.resolveEmbeddings(request.model, fallbacks);
  if (!resolution.ok) return resolution;
  if (!key || !access) return { ok: true, route: resolution.route, run: {}, settle: (result) => result };
  const unusable = noUsableTarget(key, resolution.route);
  if (unusable) return { ok: false, error: unusable };
  const reserved = key.tpm !== undefined ? estimateEmbeddingTokens(embeddingInputs(request.input)) : 0;
  const limited = await takeLimits(access, key, reserved);
  if (limited) return limited;
  const settle = (result: EmbedResult): EmbedResult => {
    const used = result.type === 'response' ? result.response.usage?.prompt_tokens : undefined;
    if (used !== undefined) access.addTokens(key, used - reserved);
    return result;
  };
  return { ok: true, route: resolution.route, run: keyRunContext(key), settle };
}

export function keyRunContext(key: KeyRecord): KeyRunContext {
  return { keyId: key.id, allowTarget: (targetId) => targetAllowed(key, targetId) };
}

/**
 * 403 when the key may not ask for `model` (a route, or a direct provider/model) or one of the
 * `fallback_models`. Checked before the model is resolved, so a key learns nothing of routes and
 * targets outside its allow-lists (not even whether they exist).
 */
export function modelDenied(key: KeyRecord, model: string, fallbacks: readonly string[], catalog: Pick<Catalog, 'hasRoute'>): ClientError | undefined {
  if (catalog.hasRoute(model)) {
    if (!routeAllowed(key, model)) return forbidden(`This API key may not use the route '${model}'.`, 'route_not_allowed', 'model');
  } else if (!targetAllowed(key, model)) {
    return forbidden(`This API key may not use the model '${model}'.`, 'model_not_allowed', 'model');
  }
  for (const [i, id] of fallbacks.entries()) {
    if (!targetAllowed(key, id)) return forbidden(`This API key may not use fallback_models[${i}] '${id}'.`, 'model_not_allowed', `fallback_models[${i}]`);
  }
  return undefined;
}

/** 403 when no live target of the resolved ladder is one the key may use (it could only ever be skipped to a degraded answer). */
export function noUsableTarget(key: KeyRecord, route: Route | EmbeddingRoute): ClientError | undefined {
  for (const rung of route.ladder) {
    if (rung.type !== 'targets') continue;
    for (const target of rung.targets) if (targetAllowed(key, target.id)) return undefined;
  }
  return forbidden(`This API key may use none of the targets of '${route.name}'.`, 'model_not_allowed', 'model');
}

function forbidden(message: string, code: string, param: string | null): ClientError {
  return { status: 403, message, type: 'permission_error', code, param };
}

/** The key's rpm and tpm taken for one request: undefined when admitted, else a 429 (or a 503 when the counters cannot be reached). */
async function takeLimits(access: KeyAccess, key: KeyRecord, tokens: number): Promise<{ ok: false; error: ClientError; headers: Record<string, string> } | undefined> {
  let verdict: LimitVerdict;
  try {
    verdict = await access.take(key, tokens);
  } catch {
    const error: ClientError = { status: 503, message: "The key's rate-limit counters are unavailable. Try again shortly.", type: 'server_error', code: 'quota_unavailable', param: null, retryAfterMs: 1_000 };
    return { ok: false, error, headers: {} };
  }
  return limitError(key, verdict);
}

/** 429 in OpenAI's style for a key over its rpm or tpm (with Retry-After); `x-should-retry: false` when waiting cannot help. */
function limitError(key: KeyRecord, verdict: LimitVerdict): { ok: false; error: ClientError; headers: Record<string, string> } | undefined {
  if (verdict.ok) return undefined;
  const what = verdict.limit === 'rpm' ? 'requests per minute' : 'tokens per minute';
  const message = verdict.tooLarge
    ? `This request needs more tokens than the API key's limit of ${verdict.max} ${what} (${key.id}): lower max_tokens or shorten the prompt.`
    : `Rate limit reached for API key ${key.id}: ${verdict.max} ${what}. Try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s.`;
  const error: ClientError = { status: 429, message, type: verdict.limit === 'rpm' ? 'requests' : 'tokens', code: 'rate_limit_exceeded', param: null, retryAfterMs: verdict.retryAfterMs };
  return { ok: false, error, headers: verdict.tooLarge ? { 'x-should-retry': 'false' } : {} };
}

/**
 * After the answer: the tokens it really used (usage when the upstream reported it, else an
 * estimate), handed to `add` once. Streams are counted as they pass.
 */
function settleChat(result: EngineResult, prompt: number, add: (usedTokens: number) => void): EngineResult {
  if (result.type === 'error') return result;
  if (result.type === 'response') {
    const text = result.response.choices.reduce((n, c) => n + (c.message.content?.length ?? 0), 0);
    add(usedTokens(result.response.usage, prompt, text));
    return result;
  }
  return { ...result, items: counted(result.items, prompt, add) };
}

async function* counted(items: AsyncIterable<StreamItem>, prompt: number, add: (usedTokens: number) => void): AsyncGenerator<StreamItem> {
  let usage: Usage | null | undefined;
  let chars = 0;
  try {
    for await (const item of items) {
      if (item.type === 'chunk') {
        if (item.chunk.usage) usage = item.chunk.usage;
        for (const choice of item.chunk.choices) chars += choice.delta.content?.length ?? 0;
      }
      yield item;
    }
  } finally {
    add(usedTokens(usage, prompt, chars));
  }
}

/** Prompt plus completion tokens from usage; without usage, the admission's prompt estimate plus the output text's characters / 4. */
function usedTokens(usage: Usage | null | undefined, prompt: number, outputChars: number): number {
  if (usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') return usage.prompt_tokens + usage.completion_tokens;
  return prompt + Math.ceil(outputChars / 4);
}
