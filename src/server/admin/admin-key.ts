import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Secret } from '../../config/secret.js';

/** The header that carries the admin key on any request (inference requests included). */
export const ADMIN_KEY_HEADER = 'x-understudy-admin-key';

/**
 * `server.admin_key`, held only as its SHA-256 digest. A presented key is hashed too and the two
 * equal-length digests compared with `timingSafeEqual`, so neither the comparison's time nor a
 * length check says anything about the key.
 */
export class AdminKey {
  readonly #digest: Buffer;

  constructor(key: Secret) {
    this.#digest = digest(key.reveal());
  }

  matches(presented: string | undefined): boolean {
    if (presented === undefined) return false;
    return timingSafeEqual(digest(presented), this.#digest);
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The key an admin API call presents: `x-understudy-admin-key`, else `Authorization: Bearer <key>`. */
export function presentedAdminKey(headers: IncomingHttpHeaders): string | undefined {
  const own = headers[ADMIN_KEY_HEADER];
  if (typeof own === 'string') return own;
  const auth = headers.authorization;
  const match = typeof auth === 'string' ? /^Bearer +(.+)$/i.exec(auth) : null;
  return match?.[1];
}
