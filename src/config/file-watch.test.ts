import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchFiles, type FileWatcher } from './file-watch.js';

let dir: string;
let watcher: FileWatcher | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'understudy-watch-'));
});
afterEach(() => {
  watcher?.close();
  watcher = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ['fs.watch', false],
  ['stat polling', true],
])('watchFiles (%s)', (_name, pollOnly) => {
  // With fs.watch, the poll is slow enough never to be what saw the change.
  const options = { debounceMs: 30, pollIntervalMs: pollOnly ? 20 : 60_000, pollOnly };

  it('calls back once, debounced, after a burst of writes; a rename over the file counts', async () => {
    const file = join(dir, 'secret');
    writeFileSync(file, 'one');
    let calls = 0;
    watcher = watchFiles([file], () => calls++, options);
    await settle(60);
    writeFileSync(file, 'two!');
    writeFileSync(file, 'three');
    await until(() => calls === 1, 'the first change');
    await settle(100);
    expect(calls).toBe(1);
    writeFileSync(join(dir, 'secret.tmp'), 'four!!');
    renameSync(join(dir, 'secret.tmp'), file);
    await until(() => calls === 2, 'the rename');
  });

  it('sees a file that did not exist yet; update() changes the set; close() stops everything', async () => {
    const later = join(dir, 'later');
    const other = join(dir, 'other');
    let calls = 0;
    watcher = watchFiles([later], () => calls++, options);
    await settle(60);
    writeFileSync(later, 'created');
    await until(() => calls === 1, 'the new file');
    watcher.update([other]);
    await settle(60);
    writeFileSync(other, 'x');
    await until(() => calls === 2, 'the added file');
    watcher.close();
    writeFileSync(other, 'changed after close');
    await settle(150);
    expect(calls).toBe(2);
  });
});
