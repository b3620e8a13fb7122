import type { KeyRecord } from './key-record.js';

/**
 * Where virtual keys live: a JSON file (file-key-store.ts) or Redis (redis-key-store.ts). Records
 * hold a key's hash, never the key. Every implementation runs the same cases:
 * `describeKeyStoreContract` in key-store.contract.ts.
 *
 * A store is shared by processes (the CLI writes while a gateway serves): a record created or
 * revoked through one handle is seen by every other handle — the file store within its re-check
 * interval (one second by default), Redis at once.
 */
export interface KeyStore {
  /** Where the keys live, for messages (a file path, or a Redis prefix; never credentials). */
  readonly location: string;
  /** Whether any record exists — active, revoked or expired alike. */
  hasKeys(): Promise<boolean>;
  /** The record with this hash (`sha256:<hex>`), compared in constant time; undefined when none. */
  findByHash(hash: string): Promise<KeyRecord | undefined>;
  get(id: string): Promise<KeyRecord | undefined>;
  /** Every record, oldest first. */
  list(): Promise<KeyRecord[]>;
  /** Adds a record. Throws `KeyConflictError` when its id or hash is already stored. */
  create(record: KeyRecord): Promise<void>;
  /**
   * Marks the key revoked at `at` (ISO 8601) and returns the record; an earlier revocation is
   * kept as it was. Undefined when there is no such id.
   */
  revoke(id: string, at: string): Promise<KeyRecord | undefined>;
  close(): Promise<void>;
}

/** A record's id or hash is already stored. */
export class KeyConflictError extends Error {
  override name = 'KeyConflictError';
  readonly code = 'key_conflict';
}

/** The store's backing data cannot be read or written (a malformed file, a lock held too long). */
export class KeyStoreError extends Error {
  override name = 'KeyStoreError';
  readonly code = 'key_store_error';
}
