import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

/** `understudy start` as built (`npm test` builds first), stopped by a signal the way an orchestrator does. */
const BIN = new URL('../dist/cli/bin.js', import.meta.url).pathname;
const TEXT = 'one two three four five six seven eight nine ten';

interface Running {
  child: ChildProcessWithoutNullStreams;
  origin: string;
  output: () => string;
  exited: Promise<number | null>;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function simulator(): Promise<Simulator> {
  const sim = createSimulator({ models: { short: { kind: 'ok', text: TEXT, chunks: 10, chunk_delay_ms: 100 } } });
  await sim.listen();
  cleanup.push(() => sim.close());
  return sim;
}

async function startCli(sim: Simulator, graceMs: number): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'understudy-shutdown-'));
  const file = join(dir, 'understudy.yaml');
  const config = {
    server: { host: '127.0.0.1', port: 0, shutdown_grace_ms: graceMs },
    logging: { level: 'info' },
    providers: { sim: { type: 'openai', base_url: sim.url, api_key: 'sk-test-cli-shutdown' } },
    routes: { chat: { ladder: [{ targets: 'sim/short' }] } },
  };
  writeFileSync(file, stringify(config));
  const child = spawn(process.execPath, [BIN, 'start', '--config', file], { env: { PATH: process.env.PATH ?? '' } });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  cleanup.push(async () => {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  const origin = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const match = /understudy listening on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    void exited.then(() => reject(new Error(`understudy exited before listening:\n${output}`)));
  });
  return { child, origin, output: () => output, exited };
}

describe('understudy start: graceful shutdown', () => {
  it('SIGTERM with a stream in flight: the stream completes within the grace period, then exit 0', async () => {
    const sim = await simulator();
    const cli = await startCli(sim, 5_000);
    const res = await request(`${cli.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.statusCode).toBe(200);
    let sse = '';
    let signalled = false;
    for await (const piece of res.body) {
      sse += (piece as Buffer).toString();
      if (!signalled && sse.includes('data: ')) {
        signalled = true;
        cli.child.kill('SIGTERM');
      }
    }
    expect(sse).toContain('data: [DONE]');
    expect(sse).not.toContain('shutting_down');
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toContain('shutting down: draining requests in flight');
    expect(cli.output()).toMatch(/"in_flight":1,"ended":0,"msg":"shut down"/);
  });

  it('SIGTERM when idle: exits 0 at once, and the port no longer answers', async () => {
    const sim = await simulator();
    const cli = await startCli(sim, 5_000);
    const started = Date.now();
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(request(`${cli.origin}/health/live`)).rejects.toThrow();
  });
});
