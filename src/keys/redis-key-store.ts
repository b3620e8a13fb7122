import { Redis } from 'ioredis';
import { hashesEqual } from './key-material.js';
import { oldestFirst, parseKeyRecord, type KeyRecord } from './key-record.js';
import { KeyConflictError, KeyStoreError, type KeyStore } from './key-store.js';

/**
 * Keys in Redis, under one prefix (hash-tagged `{keys}` so they share a cluster slot):
 * `<prefix>{keys}:ids` (a set of ids), `<prefix>{keys}:id:<id>` (the record as JSON) and
 * `<prefix>{keys}:hash:<sha256>` (the id). Every instance sees a change at once.
 */
export class RedisKeyStore implements KeyStore {
  readonly location: string;
  readonly #redis: Redis;
  readonly #base: string;
  readonly #owned: boolean;

  /** `owned`: close() quits the connection (false when the caller shares it). */
  constructor(redis: Redis, prefix: string, owned = true) {
    this.#redis = redis;
    this.#base = `${prefix}{keys}:`;
    this.#owned = owned;
    this.location = `redis prefix '${prefix}'`;
  }

  /** Connects to `url` (redis:// or rediss://); commands wait for the connection. */
  static connect(url: string, prefix: string): RedisKeyStore {
    const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    // Connection errors surface on the commands that fail; an unhandled 'error' event would crash the process.
    redis.on('error', () => undefined);
    return new RedisKeyStore(redis, prefix);
  }

  async hasKeys(): Promise<boolean> {
    return (await this.#redis.scard(this.#ids())) > 0;
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const id = await this.#redis.get(this.#hashKey(hash));
    if (id === null) return undefined;
    const record = await this.get(id);
    return record && hashesEqual(record.hash, hash) ? record : undefined;
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const text = await this.#redis.get(this.#idKey(id));
    return text === null ? undefined : this.#parse(text, id);
  }

  async list(): Promise<KeyRecord[]> {
    const ids = await this.#redis.smembers(this.#ids());
    if (ids.length === 0) return [];
    const texts = await this.#redis.mget(ids.map((id) => this.#idKey(id)));
    const records: KeyRecord[] = [];
    texts.forEach((text, i) => {
      if (text !== null) records.push(this.#parse(text, ids[i] ?? ''));
    });
    return records.sort(oldestFirst);
  }

  async create(record: KeyRecord): Promise<void> {
    const created = await this.#redis.eval(CREATE, 3, this.#ids(), this.#idKey(record.id), this.#hashKey(record.hash), record.id, JSON.stringify(record));
    if (created !== 1) throw new KeyConflictError(`a key with id ${record.id} or the same hash exists`);
  }

  async revoke(id: string, at: string): Promise<KeyRecord | undefined> {
    const key = this.#idKey(id);
    // A compare-and-set on the record's text: a concurrent write makes it fail, and we read again.
    for (let attempt = 0; attempt < 10; attempt++) {
      const text = await this.#redis.get(key);
      if (text === null) return undefined;
      const record = this.#parse(text, id);
      if (record.revoked_at !== undefined) return record;
      const revoked: KeyRecord = { ...record, revoked_at: at };
      if ((await this.#redis.eval(REPLACE, 1, key, text, JSON.stringify(revoked))) === 1) return revoked;
    }
    throw new KeyStoreError(`key ${id} kept changing while it was being revoked; try again`);
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #parse(text: string, id: string): KeyRecord {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new KeyStoreError(`${this.location}: the record of ${id} is not JSON`);
    }
    const parsed = parseKeyRecord(json);
    if (!parsed.ok) throw new KeyStoreError(`${this.location}: the record of ${id}: ${parsed.problem}`);
    return parsed.record;
  }

  #ids(): string {
    return `${this.#base}ids`;
  }

  #idKey(id: string): string {
    return `${this.#base}id:${id}`;
  }

  #hashKey(hash: string): string {
    return `${this.#base}hash:${hash}`;
  }
}

/** KEYS: ids set, record key, hash key. ARGV: id, record JSON. 1 when created, 0 when the id or hash exists. */
const CREATE = `
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[1], ARGV[1])
return 1
`;

/** KEYS: record key. ARGV: the text read, the text to write. 1 when the stored text was still the one read. */
const REPLACE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;
