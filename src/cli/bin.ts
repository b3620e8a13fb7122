#!/usr/bin/env node
import { main } from './main.js';

/** The `understudy` executable: runs a command; long-running ones stop cleanly on SIGINT/SIGTERM. */
async function run(): Promise<void> {
  const result = await main(process.argv.slice(2));
  if (typeof result === 'number') {
    process.exitCode = result;
    return;
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    result().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
