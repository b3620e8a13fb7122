import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * `${file:PATH}` in string values: the file's content, trimmed (a trailing newline is not part of
 * a key). Meant for mounted secrets (Kubernetes, Docker, systemd credentials). A relative path is
 * read from the config file's directory. The content never appears in an error message.
 */

/** Larger than this is not a secret but a mistake (`${file:/dev/zero}`, a log file). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export type SecretFileRead = { ok: true; value: string } | { ok: false; reason: string };

export interface FileRefOptions {
  /** Where a relative path is read from: the config file's directory (the working directory when parsing text). */
  baseDir: string;
  /** Called with the absolute path of every reference, readable or not (the credential watcher watches them). */
  onFileRef?: ((absPath: string) => void) | undefined;
  /** Reads one file; `readSecretFile` unless a test supplies its own. */
  read?: ((absPath: string) => SecretFileRead) | undefined;
}

/** The absolute path a reference names. */
export function fileRefPath(ref: string, baseDir: string): string {
  return isAbsolute(ref) ? ref : resolve(baseDir, ref);
}

/** Reads a secret file: its trimmed content, or why not (never the content). */
export function readSecretFile(absPath: string): SecretFileRead {
  try {
    const stat = statSync(absPath);
    if (!stat.isFile()) return { ok: false, reason: `${absPath} is not a regular file` };
    if (stat.size > MAX_SECRET_FILE_BYTES) return { ok: false, reason: `${absPath} is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB (not a secret)` };
    const value = readFileSync(absPath, 'utf8').trim();
    if (value === '') return { ok: false, reason: `file ${absPath} is empty` };
    return { ok: true, value };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: `file ${absPath} not found` };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, reason: `file ${absPath} is not readable (permission denied)` };
    return { ok: false, reason: `file ${absPath} could not be read (${code ?? 'error'})` };
  }
}
