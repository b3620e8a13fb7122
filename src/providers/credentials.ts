import { isUpstreamFailure, type FailureDetails, type FailureKind } from '../canonical/failure.js';

/**
 * A provider's credentials: one key, or a pool used round-robin. A key the upstream refuses
 * (401/403), or whose quota or rate limit ran out, is cooled — for the durations the engine cools
 * a target for — and skipped while another key of the pool is not cooling. The keys can be
 * replaced at run time (rotation); the pool keeps every key it ever held for scrubbing.
 */

/** How long a key cools after each kind of refusal (the engine's policy durations; config's `defaults.policy`). */
export interface CredentialCooling {
  /** `upstream_auth` (401/403): `misconfigured_cooldown_ms`. */
  authMs: number;
  /** `quota_exhausted`: `quota_cooldown_ms`. */
  quotaMs: number;
  /** `rate_limited` with no Retry-After: `rate_limit_cooldown_ms` (a Retry-After is used as given). */
  rateLimitMs: number;
}

/** The engine's policy defaults (engine/route.ts `DEFAULT_POLICY`), repeated here because providers do not import the engine. */
export const DEFAULT_CREDENTIAL_COOLING: Readonly<CredentialCooling> = { authMs: 5 * 60_000, quotaMs: 10 * 60_000, rateLimitMs: 1_000 };

/** One key of a pool. The same object while its key stays in the pool, across rotations. */
export interface Credential {
  readonly key: string;
  /** Its position in the pool (`api_keys[index]`): how log lines name a key. */
  readonly index: number;
}

/** A key was cooled (for a log line: never the key itself). */
export interface CredentialCooled {
  index: number;
  kind: FailureKind;
  ms: number;
  /** Keys of the pool not cooling after this one. */
  available: number;
}

export interface CredentialPoolOptions {
  now: () => number;
  cooling?: CredentialCooling | undefined;
  onCooled?: ((event: CredentialCooled) => void) | undefined;
}

interface Entry {
  key: string;
  index: number;
  coolUntil: number;
}

/** How long a failure cools the key that got it; undefined when the failure says nothing about the key. */
export function credentialCooldownMs(failure: FailureDetails, cooling: CredentialCooling): number | undefined {
  switch (failure.kind) {
    case 'upstream_auth':
      return cooling.authMs;
    case 'quota_exhausted':
      return cooling.quotaMs;
    case 'rate_limited':
      return failure.retryAfterMs ?? cooling.rateLimitMs;
    case 'overloaded':
    case 'server_error':
    case 'connection':
    case 'timeout_headers':
    case 'timeout_first_token':
    case 'stream_stalled':
    case 'stream_cut':
    case 'malformed_response':
    case 'empty_output':
    case 'contract_violation':
    case 'context_window':
    case 'content_policy':
    case 'model_not_found':
    case 'unsupported_parameter':
    case 'invalid_request':
    case 'budget_exceeded':
    case 'deadline_exceeded':
    case 'client_cancelled':
      return undefined;
    default:
      return assertNever(failure.kind);
  }
}

export class CredentialPool {
  #entries: Entry[];
  #cursor = 0;
  #secrets: readonly string[];
  readonly #now: () => number;
  readonly #cooling: CredentialCooling;
  readonly #onCooled: CredentialPoolOptions['onCooled'];

  constructor(keys: readonly string[], options: CredentialPoolOptions) {
    this.#entries = keys.map((key, index) => ({ key, index, coolUntil: 0 }));
    this.#secrets = [...new Set(keys)];
    this.#now = options.now;
    this.#cooling = options.cooling ?? DEFAULT_CREDENTIAL_COOLING;
    this.#onCooled = options.onCooled;
  }

  /** A pool of the one key (or none) of a spec without a pool. */
  static of(apiKey: string | undefined, now: () => number): CredentialPool {
    return new CredentialPool(apiKey ? [apiKey] : [], { now });
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Every key this pool has held, current and rotated out: what is scrubbed from upstream text. */
  get secrets(): readonly string[] {
    return this.#secrets;
  }

  /** The current keys, in order. */
  keys(): string[] {
    return this.#entries.map((e) => e.key);
  }

  /**
   * The next key in rotation that is not cooling. When every key is cooling: the one whose
   * cooldown ends first (`whenAllCooling: 'soonest'`, for a first attempt), or undefined
   * (`'none'`, for a retry). Undefined when the pool is empty.
   */
  pick(whenAllCooling: 'soonest' | 'none' = 'soonest'): Credential | undefined {
    const entries = this.#entries;
    const n = entries.length;
    if (n === 0) return undefined;
    if (n === 1) {
      const only = entries[0] as Entry;
      return whenAllCooling === 'none' && only.coolUntil > this.#now() ? undefined : only;
    }
    const now = this.#now();
    let soonest = entries[0] as Entry;
    for (let i = 0; i < n; i++) {
      const at = (this.#cursor + i) % n;
      const entry = entries[at] as Entry;
      if (entry.coolUntil <= now) {
        this.#cursor = (at + 1) % n;
        return entry;
      }
      if (entry.coolUntil < soonest.coolUntil) soonest = entry;
    }
    return whenAllCooling === 'soonest' ? soonest : undefined;
  }

  /** Cools `credential` when `failure` is about the key; says whether it did. */
  cool(credential: Credential, failure: FailureDetails): boolean {
    const ms = credentialCooldownMs(failure, this.#cooling);
    if (ms === undefined) return false;
    const entry = this.#entries[credential.index];
    // A key rotated out meanwhile is not in the pool any more: nothing to cool.
    if (entry === undefined || entry.key !== credential.key) return false;
    const now = this.#now();
    entry.coolUntil = Math.max(entry.coolUntil, now + ms);
    if (this.#onCooled) {
      let available = 0;
      for (const e of this.#entries) if (e.coolUntil <= now) available++;
      this.#onCooled({ index: entry.index, kind: failure.kind, ms, available });
    }
    return true;
  }

  /**
   * Rotation: the pool now holds `keys`. A key that stays keeps its cooldown; a new key starts
   * fresh. One assignment, so a request sees either the old list or the new one.
   */
  replace(keys: readonly string[]): void {
    const previous = new Map(this.#entries.map((e) => [e.key, e]));
    this.#entries = keys.map((key, index) => {
      const kept = previous.get(key);
      return kept ? Object.assign(kept, { index }) : { key, index, coolUntil: 0 };
    });
    if (this.#cursor >= this.#entries.length) this.#cursor = 0;
    const added = keys.filter((key) => !this.#secrets.includes(key));
    if (added.length > 0) this.#secrets = [...this.#secrets, ...new Set(added)];
  }
}

/**
 * Runs one upstream call with a key of the pool. When the upstream refuses the key (a failure
 * `cool` accepts: 401/403, quota, rate limit), the call is made again at once with another key
 * that is not cooling — each key at most once — so the engine sees a failure only when no key
 * of the pool could serve. Nothing has reached the client when these failures happen (they come
 * with the response status).
 */
export async function withCredential<T>(pool: CredentialPool, run: (credential: Credential | undefined) => Promise<T>): Promise<T> {
  if (pool.size <= 1) return run(pool.pick());
  let credential = pool.pick() as Credential;
  for (let tried = 1; ; tried++) {
    try {
      return await run(credential);
    } catch (error) {
      if (!isUpstreamFailure(error) || !pool.cool(credential, error.details)) throw error;
      const next = tried < pool.size ? pool.pick('none') : undefined;
      if (next === undefined) throw error;
      credential = next;
    }
  }
}

/** A provider's request headers for each key, built once per key (one WeakMap lookup per call). */
export class CredentialHeaders {
  readonly #cache = new WeakMap<Credential, Record<string, string>>();

  constructor(
    private readonly base: Record<string, string>,
    private readonly auth: (key: string) => Record<string, string>,
  ) {}

  for(credential: Credential | undefined): Record<string, string> {
    if (credential === undefined) return this.base;
    let headers = this.#cache.get(credential);
    if (headers === undefined) {
      headers = { ...this.base, ...this.auth(credential.key) };
      this.#cache.set(credential, headers);
    }
    return headers;
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled FailureKind: ${String(value)}`);
}
