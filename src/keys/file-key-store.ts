import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hashesEqual } from './key-material.js';
import { oldestFirst, parseKeyRecord, type KeyRecord } from './key-record.js';
import { KeyConflictError, KeyStoreError, type KeyStore } from './key-store.js';

export interface FileKeyStoreOptions {
  /** The file is checked for changes (stat) at most this often on lookups; default 1000 ms. */
  recheckMs?: number;
  /** Time for the re-check interval (tests); default Date.now. */
  now?: () => number;
  /** A re-read that failed at run time (the last good records stay in force). */
  onError?: (message: string) => void;
}

export const DEFAULT_RECHECK_MS = 1_000;
const LOCK_WAIT_MS = 5_000;
const LOCK_STALE_MS = 30_000;
const FILE_VERSION = 1;

interface Loaded {
  records: KeyRecord[];
  /** What identifies this version of the file: inode, size and mtime ('missing' when absent). */
  stamp: string;
}

/**
 * Keys in one JSON file (`{ "version": 1, "keys": [...] }`), mode 0600. Reads are served from
 * memory; a lookup stats the file at most once per `recheckMs` and re-reads it when it changed,
 * so a key the CLI creates works in a running gateway within a second. Writes take a lock file
 * (`<file>.lock`, so the CLI and a gateway's admin API never lose each other's writes), re-read
 * the file, and replace it atomically (a temp file, fsync, rename): a reader never sees half a file.
 */
export class FileKeyStore implements KeyStore {
  readonly location: string;
  readonly #path: string;
  readonly #recheckMs: number;
  readonly #now: () => number;
  readonly #onError: (message: string) => void;
  #records: KeyRecord[] = [];
  #byHash = new Map<string, KeyRecord>();
  #stamp = 'missing';
  #checkedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;
  /** In-process writes run one at a time (the lock file orders them against other processes). */
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(path: string, options: FileKeyStoreOptions) {
    this.#path = path;
    this.location = path;
    this.#recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Opens the store and reads the file once; a malformed file is an error here (a missing one is an empty store). */
  static async open(path: string, options: FileKeyStoreOptions = {}): Promise<FileKeyStore> {
    const store = new FileKeyStore(path, options);
    store.#install(await readKeyFile(path));
    store.#checkedAt = store.#now();
    return store;
  }

  async hasKeys(): Promise<boolean> {
    await this.#fresh();
    return this.#records.length > 0;
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    await this.#fresh();
    const found = this.#byHash.get(hash);
    return found && hashesEqual(found.hash, hash) ? copy(found) : undefined;
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    await this.#fresh();
    const found = this.#records.find((r) => r.id === id);
    return found ? copy(found) : undefined;
  }

  async list(): Promise<KeyRecord[]> {
    await this.#fresh();
    return this.#records.map(copy).sort(oldestFirst);
  }

  create(record: KeyRecord): Promise<void> {
    return this.#write((records) => {
      if (records.some((r) => r.id === record.id || r.hash === record.hash)) throw new KeyConflictError(`a key with id ${record.id} or the same hash exists`);
      return { records: [...records, copy(record)], result: undefined };
    });
  }

  revoke(id: string, at: string): Promise<KeyRecord | undefined> {
    return this.#write((records) => {
      const found = records.find((r) => r.id === id);
      if (!found) return { records: undefined, result: undefined };
      if (found.revoked_at !== undefined) return { records: undefined, result: copy(found) };
      const revoked = { ...found, revoked_at: at };
      return { records: records.map((r) => (r.id === id ? revoked : r)), result: copy(revoked) };
    });
  }

  async close(): Promise<void> {
    await this.#writes.catch(() => undefined);
  }

  /** Re-reads the file when the re-check interval has passed and it changed. */
  async #fresh(): Promise<void> {
    if (this.#now() - this.#checkedAt < this.#recheckMs) return;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    await this.#refreshing;
  }

  async #refresh(): Promise<void> {
    this.#checkedAt = this.#now();
    try {
      if ((await fileStamp(this.#path)) === this.#stamp) return;
      this.#install(await readKeyFile(this.#path));
    } catch (error) {
      this.#onError(`key file ${this.#path} could not be re-read; the keys read before stay in force: ${(error as Error).message}`);
    }
  }

  #install(loaded: Loaded): void {
    this.#records = loaded.records;
    this.#byHash = new Map(loaded.records.map((r) => [r.hash, r]));
    this.#stamp = loaded.stamp;
  }

  /** One read-modify-write under the lock; `change` returns undefined records for "nothing to write". */
  #write<R>(change: (records: KeyRecord[]) => { records: KeyRecord[] | undefined; result: R }): Promise<R> {
    const run = async (): Promise<R> => {
      const release = await acquireLock(`${this.#path}.lock`);
      try {
        const current = await readKeyFile(this.#path);
        const { records, result } = change(current.records);
        if (records === undefined) {
          this.#install(current);
          return result;
        }
        await writeAtomically(this.#path, `${JSON.stringify({ version: FILE_VERSION, keys: records }, null, 2)}\n`);
        this.#install({ records, stamp: await fileStamp(this.#path) });
        this.#checkedAt = this.#now();
        return result;
      } finally {
        await release();
      }
    };
    const next = this.#writes.then(run, run);
    this.#writes = next.catch(() => undefined);
    return next;
  }
}

function copy(record: KeyRecord): KeyRecord {
  return structuredClone(record);
}

async function fileStamp(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

/** The file's records and stamp; a missing file is an empty store, a malformed one a KeyStoreError. */
async function readKeyFile(path: string): Promise<Loaded> {
  const stamp = await fileStamp(path);
  if (stamp === 'missing') return { records: [], stamp };
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KeyStoreError(`${path}: not JSON (${(error as Error).message})`);
  }
  const keys = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>)['keys'] : undefined;
  if (!Array.isArray(keys)) throw new KeyStoreError(`${path}: expected { "version": 1, "keys": [...] }`);
  const records: KeyRecord[] = [];
  for (const [i, raw] of keys.entries()) {
    const parsed = parseKeyRecord(raw);
    if (!parsed.ok) throw new KeyStoreError(`${path}: keys[${i}]: ${parsed.problem}`);
    records.push(parsed.record);
  }
  // The stamp of what was read: a change between stat and read is caught by the next re-check.
  return { records, stamp };
}

/** Writes `text` to a temp file beside `path` (mode 0600), flushes it, and renames it over `path`. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await chmod(path, 0o600);
}

/** Creates `<file>.lock` exclusively, waiting while another writer holds it; a lock older than 30 s is stale and removed. */
async function acquireLock(lock: string): Promise<() => Promise<void>> {
  await mkdir(dirname(lock), { recursive: true });
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(lock).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await stat(lock).catch(() => undefined);
    if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) {
      await unlink(lock).catch(() => undefined);
      continue;
    }
    if (Date.now() > until) throw new KeyStoreError(`${lock} is held by another writer; try again (remove it if no understudy process is writing keys)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
