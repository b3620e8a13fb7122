import type { KeysConfig } from '../config/keys-config.js';
import { FileKeyStore } from './file-key-store.js';
import type { KeyStore } from './key-store.js';
import { RedisKeyStore } from './redis-key-store.js';

/** The key store `keys:` asks for. A malformed key file is an error here (a missing one is an empty store). */
export async function openKeyStore(config: KeysConfig, onError?: (message: string) => void): Promise<KeyStore> {
  if (config.store === 'redis') return RedisKeyStore.connect(config.url.reveal(), config.prefix);
  return FileKeyStore.open(config.file, onError ? { onError } : {});
}
