import { defaultKeys } from '../config/keys-config.js';
import type { Config } from '../config/types.js';
import { KeyStoreError, type KeyStore } from '../keys/key-store.js';
import { openKeyStore } from '../keys/open-store.js';
import { UsageError } from './start.js';

export interface StartAccess {
  store: KeyStore;
  /** What `understudy start` prints about access. */
  banner: string;
}

/**
 * The key store `understudy start` hands the gateway (`keys:`, else understudy-keys.json beside
 * the config), and the bind rule: in **open mode** (no key stored, `keys.required` unset) the
 * gateway binds loopback only, unless `--insecure`; with keys (or `required`) any address is allowed.
 */
export async function startAccess(config: Config, configDir: string, options: { insecure: boolean; loopback: boolean }): Promise<StartAccess> {
  const keys = config.keys ?? defaultKeys(configDir);
  const store = await openKeyStore(keys).catch((error: unknown) => {
    throw error instanceof KeyStoreError ? new UsageError(`Cannot open the key store: ${error.message}`) : error;
  });
  try {
    const count = (
      await store.list().catch((error: unknown) => {
        throw new UsageError(`Cannot read the key store (${store.location}): ${error instanceof Error ? error.message : String(error)}`);
      })
    ).length;
    const host = config.server.host;
    if (count > 0) return { store, banner: `keys: every /v1 request needs a virtual key (${count} in ${store.location}).` };
    if (keys.required) {
      return { store, banner: `keys: required (keys.required), but none exists yet in ${store.location}: every /v1 request is refused until one is created (understudy keys create).` };
    }
    if (!options.loopback && !options.insecure) {
      throw new UsageError(
        `Refusing to listen on ${host} in open mode: no keys exist in ${store.location} (and keys.required is not set), so anyone who can reach ${host} could use this gateway and spend on your provider accounts.\n` +
          `Create a key first (understudy keys create --config FILE --name NAME), or set keys: { required: true }, or pass --insecure to listen on ${host} anyway (only behind your own authenticating proxy).`,
      );
    }
    const who = options.loopback ? `this machine (${host})` : `${host} (--insecure)`;
    return {
      store,
      banner: `open mode: no keys — anyone who can reach ${who} may call the gateway. Create a key with understudy keys create --config FILE --name NAME; from then on every /v1 request needs one.`,
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
