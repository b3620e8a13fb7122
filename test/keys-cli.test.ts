import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { pollFor } from './integration/harness.js';

/**
 * `understudy keys` and `understudy start` as a user runs them: the built executable (`npm run
 * build` first), a simulator upstream, and a gateway that picks up keys the CLI creates and
 * revokes while it runs.
 */
const BIN = new URL('../dist/cli/bin.js', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { until?: RegExp } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (options.until?.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const open: { close(): Promise<void> }[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A config file in a fresh directory, in front of a simulator (route `chat`, and `other`). */
async function configFile(): Promise<{ file: string; dir: string; sim: Simulator }> {
  const sim = createSimulator({ models: { m: { kind: 'ok', text: 'Hello from the simulator.' } } });
  await sim.listen();
  open.push(sim);
  const dir = mkdtempSync(join(tmpdir(), 'understudy-keys-cli-'));
  dirs.push(dir);
  const file = join(dir, 'understudy.yaml');
  writeFileSync(
    file,
    [
      'server: { host: 127.0.0.1, port: 0 }',
      'logging: { level: silent }',
      `providers:\n  sim: { type: openai, base_url: ${sim.url} }`,
      'routes:',
      '  chat: { ladder: [ { targets: [sim/m] } ] }',
      '  other: { ladder: [ { targets: [sim/m] } ] }',
      'store: { backend: none }',
      '',
    ].join('\n'),
  );
  return { file, dir, sim };
}

/** `understudy start` kept running; resolves with its base URL once it listens. */
async function startGateway(file: string): Promise<{ url: string; stdout: () => string }> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'start', '--config', file], { env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  open.push({
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  });
  // The listening line, then the access line (they may arrive in separate chunks).
  const ready = (): string | undefined => (/(open mode|keys): .*\n/.test(stdout) ? /listening on (http:\/\/\S+\/v1)/.exec(stdout)?.[1] : undefined);
  const url = await pollFor(() => ready() ?? (child.exitCode !== null ? `exited: ${stderr}` : undefined), 10_000, 'the gateway to listen');
  if (url.startsWith('exited')) throw new Error(url);
  return { url, stdout: () => stdout };
}

async function chatStatus(url: string, key?: string, model = 'chat'): Promise<number> {
  const response = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('understudy keys (CLI)', () => {
  it('create → use → list → revoke → 401, picked up by an already running gateway without a restart', async () => {
    const { file, dir } = await configFile();
    const gateway = await startGateway(file);
    expect(gateway.stdout()).toContain('open mode: no keys');
    expect(await chatStatus(gateway.url)).toBe(200);

    const created = await cli(['keys', 'create', '--config', file, '--name', 'ci', '--routes', 'chat', '--rpm', '100', '--expires', '30d', '--meta', 'team=search']);
    expect(created.code).toBe(0);
    const key = /usk_[0-9A-Za-z]{43}/.exec(created.stdout)?.[0] ?? '';
    const id = /key_[a-z2-7]{12}/.exec(created.stdout)?.[0] ?? '';
    expect(key).not.toBe('');
    expect(created.stdout).toContain('only time the key is shown');
    const keyFile = join(dir, 'understudy-keys.json');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).not.toContain(key);

    // The running gateway re-reads the file within a second: closed to anonymous callers, open to the key.
    await pollFor(async () => (await chatStatus(gateway.url)) === 401, 5_000, 'the gateway to require keys');
    expect(await chatStatus(gateway.url, key)).toBe(200);
    expect(await chatStatus(gateway.url, key, 'other')).toBe(403);

    const listed = await cli(['keys', 'list', '--config', file]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+ci\\s+active\\s+chat\\s+\\*\\s+100\\s+-`));
    expect(listed.stdout).not.toContain(key);
    expect(listed.stdout).not.toContain('sha256');
    const json = JSON.parse((await cli(['keys', 'list', '--config', file, '--json'])).stdout) as Record<string, unknown>[];
    expect(json).toEqual([expect.objectContaining({ id, name: 'ci', status: 'active', metadata: { team: 'search' } })]);
    expect(json[0]).not.toHaveProperty('hash');

    const revoked = await cli(['keys', 'revoke', '--config', file, id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked key ${id}`);
    await pollFor(async () => (await chatStatus(gateway.url, key)) === 401, 5_000, 'the revoked key to be refused');
    // Revoking the last key does not re-open the gateway.
    expect(await chatStatus(gateway.url)).toBe(401);
    expect((await cli(['keys', 'list', '--config', file])).stdout).toMatch(new RegExp(`${id}\\s+ci\\s+revoked`));
    expect((await cli(['keys', 'revoke', '--config', file, 'key_unknown'])).code).toBe(1);
  });

  it('refuses bad input with a message naming it', async () => {
    const { file } = await configFile();
    const unknownRoute = await cli(['keys', 'create', '--config', file, '--name', 'x', '--routes', 'caht']);
    expect(unknownRoute.code).toBe(1);
    expect(unknownRoute.stderr).toContain("'caht' is not a configured route");
    const badTarget = await cli(['keys', 'create', '--config', file, '--name', 'x', '--targets', 'ghost/*']);
    expect(badTarget.code).toBe(1);
    expect(badTarget.stderr).toContain("unknown provider 'ghost'");
    expect((await cli(['keys', 'create', '--config', file, '--name', 'x', '--expires', 'soon'])).stderr).toContain('--expires');
    expect((await cli(['keys', 'create', '--config', file, '--name', 'x', '--rpm', '0'])).stderr).toContain('--rpm');
    expect((await cli(['keys', 'create', '--config', file])).stderr).toContain('--name');
    expect((await cli(['keys', 'frob', '--config', file])).code).toBe(2);
    expect((await cli(['keys', 'list', '--config', file])).stdout).toContain('No keys');
  });

  it('start binds a non-loopback address only with keys (or --insecure), and says which mode it is in', async () => {
    const { file } = await configFile();
    const refused = await cli(['start', '--config', file, '--host', '0.0.0.0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('open mode');
    expect(refused.stderr).toContain('--insecure');

    await cli(['keys', 'create', '--config', file, '--name', 'ops']);
    const keyed = await cli(['start', '--config', file, '--host', '0.0.0.0'], { until: /every \/v1 request needs a virtual key/ });
    expect(keyed.stdout).toContain('listening on http://0.0.0.0:');
    expect(keyed.stdout).toContain('keys: every /v1 request needs a virtual key (1 in');
    expect(keyed.code).toBe(0);
  });
});
