import type { StateStore } from '../state/state-store.js';
import type { Clock } from '../time/clock.js';
import { hashKey, looksLikeKey } from './key-material.js';
import { keyStatus, type KeyRecord } from './key-record.js';
import type { KeyStore } from './key-store.js';

/** Who a request is: anyone (open mode), a valid key, or refused and why. */
export type Identity =
  | { type: 'open' }
  | { type: 'key'; key: KeyRecord }
  | { type: 'refused'; reason: 'missing' | 'unknown' | 'revoked' | 'expired'; key?: KeyRecord };

/** What a key's rate limits said about one request. */
export type LimitVerdict =
  | { ok: true }
  | {
      ok: false;
      limit: 'rpm' | 'tpm';
      /** The limit's value. */
      max: number;
      /** Until the window ends. */
      retryAfterMs: number;
      /** The request alone is more than the limit: waiting will not help. */
      tooLarge: boolean;
    };

export interface KeyAccessOptions {
  /** `keys.required`: closed even with no key stored. */
  required: boolean;
  state: StateStore;
  clock: Clock;
}

export const LIMIT_WINDOW_MS = 60_000;

/**
 * Virtual keys at the door. The gateway is **open** (anyone, as before keys existed) until the
 * store holds a key or `keys.required` is set; then it is **closed** — every request needs a
 * valid key — and it stays closed for the life of the process: revoking every key, emptying the
 * store or deleting the key file never re-opens it (restart to go back to open mode).
 */
export class KeyAccess {
  #closed: boolean;

  constructor(
    readonly store: KeyStore,
    private readonly options: KeyAccessOptions,
  ) {
    this.#closed = options.required;
  }

  /** Requires keys from now on (the gateway calls it when the store has keys at start). */
  requireKeys(): void {
    this.#closed = true;
  }

  /** Whether keys are required now; once true, always true. */
  async closed(): Promise<boolean> {
    if (!this.#closed && (await this.store.hasKeys())) this.#closed = true;
    return this.#closed;
  }

  /**
   * Who presents `presented` (the key from the request's headers, if any). In open mode whatever a
   * client sends is ignored (SDKs always send some key).
   */
  async identify(presented: string | undefined): Promise<Identity> {
    if (!(await this.closed())) return { type: 'open' };
    if (presented === undefined || presented === '') return { type: 'refused', reason: 'missing' };
    if (!looksLikeKey(presented)) return { type: 'refused', reason: 'unknown' };
    const key = await this.store.findByHash(hashKey(presented));
    if (!key) return { type: 'refused', reason: 'unknown' };
    const status = keyStatus(key, this.options.clock.now());
    return status === 'active' ? { type: 'key', key } : { type: 'refused', reason: status, key };
  }

  /**
   * Takes one request and `tokens` (the prompt estimate plus `max_tokens`) from the key's rpm and
   * tpm windows, in that order; a refusal counts nothing in its own window (a request refused for
   * tpm has still used one of the minute's requests).
   */
  async take(key: KeyRecord, tokens: number): Promise<LimitVerdict> {
    const { state, clock } = this.options;
    if (key.rpm !== undefined) {
      const now = clock.now();
      const rpm = await state.consumeQuota(quotaKey(key, 'rpm'), 1, key.rpm, LIMIT_WINDOW_MS, now);
      if (!rpm.allowed) return { ok: false, limit: 'rpm', max: key.rpm, retryAfterMs: Math.max(1, rpm.resetAt - now), tooLarge: false };
    }
    if (key.tpm !== undefined) {
      const now = clock.now();
      const tpm = await state.consumeQuota(quotaKey(key, 'tpm'), tokens, key.tpm, LIMIT_WINDOW_MS, now);
      if (!tpm.allowed) return { ok: false, limit: 'tpm', max: key.tpm, retryAfterMs: Math.max(1, tpm.resetAt - now), tooLarge: tokens > key.tpm };
    }
    return { ok: true };
  }

  /** Counts tokens learnt after the answer (output beyond what admission reserved) in the key's tpm window. */
  addTokens(key: KeyRecord, tokens: number): void {
    if (key.tpm === undefined || !(tokens > 0)) return;
    this.options.state.addQuota(quotaKey(key, 'tpm'), Math.ceil(tokens), LIMIT_WINDOW_MS, this.options.clock.now()).catch(() => undefined);
  }
}

function quotaKey(key: KeyRecord, limit: 'rpm' | 'tpm'): string {
  return `key:${key.id}:${limit}`;
}
