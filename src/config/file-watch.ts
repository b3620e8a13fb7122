import { watch, watchFile, unwatchFile, type FSWatcher, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Watches a set of files and calls `onChange` once things settle (debounced). Two mechanisms:
 * `fs.watch` on each file's directory, so an editor's write-and-rename and a Kubernetes secret
 * update (a `..data` symlink swap) are seen at once; and a stat poll of each file, the fallback
 * for file systems where `fs.watch` misses changes (network mounts, some container volumes) or
 * cannot be used at all. Nothing here keeps the process alive, and `close()` releases everything.
 */

export interface FileWatchOptions {
  /** Quiet period after the last event before `onChange` runs. */
  debounceMs: number;
  /** Stat-poll interval of the fallback. */
  pollIntervalMs: number;
  /** Poll only (no `fs.watch`). */
  pollOnly?: boolean | undefined;
}

export interface FileWatcher {
  /** Watches exactly these files from now on. */
  update(paths: readonly string[]): void;
  close(): void;
}

export const DEFAULT_FILE_WATCH: Readonly<FileWatchOptions> = { debounceMs: 200, pollIntervalMs: 5_000 };

export function watchFiles(paths: readonly string[], onChange: () => void, options: FileWatchOptions): FileWatcher {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const dirs = new Map<string, { watcher: FSWatcher | undefined; names: Set<string> }>();
  const polled = new Set<string>();

  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, options.debounceMs);
    timer.unref();
  };
  const onStat = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) schedule();
  };

  const watchDir = (dir: string): FSWatcher | undefined => {
    if (options.pollOnly) return undefined;
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        const entry = dirs.get(dir);
        // `..data` and the like: Kubernetes swaps a secret's files through a symlinked directory.
        if (name === null || entry?.names.has(name) || name.startsWith('..')) schedule();
      });
      // A watcher that fails later (the directory went away) leaves the stat poll in charge.
      watcher.on('error', () => {
        watcher.close();
        const entry = dirs.get(dir);
        if (entry) entry.watcher = undefined;
      });
      return watcher;
    } catch {
      return undefined; // a directory that does not exist yet, or no fs.watch here: the poll covers it
    }
  };

  const update = (next: readonly string[]): void => {
    if (closed) return;
    const wanted = new Set(next);
    for (const path of polled) {
      if (!wanted.has(path)) {
        unwatchFile(path, onStat);
        polled.delete(path);
      }
    }
    for (const path of wanted) {
      if (!polled.has(path)) {
        watchFile(path, { persistent: false, interval: options.pollIntervalMs }, onStat);
        polled.add(path);
      }
    }
    const names = new Map<string, Set<string>>();
    for (const path of wanted) {
      const dir = dirname(path);
      const set = names.get(dir) ?? new Set<string>();
      set.add(basename(path));
      names.set(dir, set);
    }
    for (const [dir, entry] of dirs) {
      if (!names.has(dir)) {
        entry.watcher?.close();
        dirs.delete(dir);
      }
    }
    for (const [dir, set] of names) {
      const entry = dirs.get(dir);
      if (entry) {
        entry.names = set;
        entry.watcher ??= watchDir(dir);
      } else {
        dirs.set(dir, { watcher: watchDir(dir), names: set });
      }
    }
  };

  update(paths);
  return {
    update,
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      for (const path of polled) unwatchFile(path, onStat);
      polled.clear();
      for (const entry of dirs.values()) entry.watcher?.close();
      dirs.clear();
    },
  };
}
