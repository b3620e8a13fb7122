import { DEFAULT_FILE_WATCH, watchFiles, type FileWatcher } from '../config/file-watch.js';
import { loadConfigFile } from '../config/load.js';
import type { Config, ProviderConfig } from '../config/types.js';
import type { CredentialPool } from '../providers/credentials.js';
import { scrub } from '../providers/scrub.js';
import type { Logger } from '../telemetry/logger.js';
import { allPoolSecrets, applyCredentials } from './credential-pools.js';

/**
 * Credential rotation without a restart: the config file and every `${file:...}` it references
 * are watched; on a change the file is loaded again (fully validated) and only the providers'
 * keys are swapped into the running pools. An invalid file is logged (never a key) and the old
 * keys stay; any other difference from the file as it was at start is logged as needing a restart.
 */

export interface CredentialWatchOptions {
  /** The config file the gateway was started from. */
  path: string;
  /** The environment `${env:...}` reads (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Quiet period after a change before reloading (default 200 ms). */
  debounceMs?: number;
  /** Stat-poll interval of the fallback for file systems where fs.watch misses changes (default 5000 ms). */
  pollIntervalMs?: number;
  /** Poll only, no fs.watch (tests of the fallback). */
  pollOnly?: boolean;
}

export interface CredentialWatch {
  /** Loads the file now (what a change does after the debounce). */
  reload(): void;
  close(): void;
}

export function watchCredentials(
  pools: ReadonlyMap<string, CredentialPool>,
  running: Config,
  logger: Logger,
  options: CredentialWatchOptions,
): CredentialWatch {
  const { path } = options;
  const env = options.env ?? process.env;
  let files = new Set<string>();
  let lastError: string | undefined;
  let reportedSections = '';

  /** Loads the file; the `${file:...}` paths it references are collected even when it fails. */
  const load = (): { config?: Config; error?: string; refs: Set<string> } => {
    const refs = new Set<string>();
    try {
      return { config: loadConfigFile(path, { env, onFileRef: (ref) => refs.add(ref) }), refs };
    } catch (error) {
      return { error: scrub(error instanceof Error ? error.message : String(error), allPoolSecrets(pools)), refs };
    }
  };

  // The baseline for "other changes" is the file as it reads now (the running config may carry
  // command-line overrides such as --port); the running config if the file cannot be read.
  const initial = load();
  const baseline = sectionPrints(initial.config ?? running);
  files = initial.refs;

  const reload = (): void => {
    const next = load();
    // A failed load still names the files it got to; keep watching the earlier ones too, so fixing either is seen.
    files = next.config ? next.refs : new Set([...files, ...next.refs]);
    watcher.update([path, ...files]);
    if (!next.config) {
      if (next.error !== lastError) logger.error({ config: path, error: next.error }, 'config change not applied: the file is invalid; provider credentials unchanged');
      lastError = next.error;
      return;
    }
    lastError = undefined;
    const rotated = applyCredentials(pools, next.config);
    if (rotated.length > 0) logger.info({ config: path, providers: rotated }, 'provider credentials reloaded');
    const changed = changedSections(baseline, sectionPrints(next.config));
    const key = changed.join(',');
    if (key !== reportedSections && changed.length > 0) {
      logger.info({ config: path, changed }, 'config file changed: only provider credentials are applied at run time; restart to apply the rest');
    }
    reportedSections = key;
  };

  const watcher: FileWatcher = watchFiles([path, ...files], reload, {
    debounceMs: options.debounceMs ?? DEFAULT_FILE_WATCH.debounceMs,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_FILE_WATCH.pollIntervalMs,
    pollOnly: options.pollOnly,
  });
  if (initial.error) logger.error({ config: path, error: initial.error }, 'config file cannot be read for credential reloads; watching it for a valid version');
  lastError = initial.error;
  return { reload, close: () => watcher.close() };
}

/**
 * A comparable print of each section (each provider apart, without its keys). Only compared, never
 * logged: a section's name says what changed.
 */
function sectionPrints(config: Config): Map<string, string> {
  const out = new Map<string, string>();
  for (const [section, value] of Object.entries(config)) {
    if (section === 'source' || section === 'providers') continue;
    out.set(snakeCase(section), JSON.stringify(value) ?? '');
  }
  for (const [name, provider] of Object.entries(config.providers)) {
    const rest: Partial<ProviderConfig> = { ...provider };
    delete rest.apiKey;
    delete rest.apiKeys;
    out.set(`providers.${name}`, JSON.stringify(rest));
  }
  return out;
}

function changedSections(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).sort();
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
