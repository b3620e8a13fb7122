#!/usr/bin/env node
import { main } from './main.js';

/**
 * The `understudy` executable: runs a command; long-running ones stop cleanly on SIGINT/SIGTERM.
 * The handlers are installed before the command starts: a command prints its banner while it
 * starts, and a signal that arrives before the handlers exist would kill the process uncleanly.
 */
async function run(): Promise<void> {
  let stopping = false;
  let close: (() => Promise<void>) | undefined;
  const finish = (): void => {
    if (!close) return;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    finish();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const result = await main(process.argv.slice(2));
  if (typeof result === 'number') {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (stopping) process.exit(result);
    process.exitCode = result;
    return;
  }
  close = result;
  if (stopping) finish();
}

run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
