import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** These run the built executable (`npm test` builds first), as a user would. */
const BIN = new URL('../dist/cli/bin.js', import.meta.url).pathname;
const EXAMPLE = new URL('../examples/understudy.yaml', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { cwd?: string; env?: Record<string, string>; until?: RegExp } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { PATH: process.env.PATH ?? '', ...options.env },
    });
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

describe('understudy CLI', () => {
  it('check accepts a valid config and prints its ladders', async () => {
    const run = await cli(['check', EXAMPLE], { env: { OPENAI_API_KEY: 'sk-test-secret-value' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('ok — 2 provider(s), 1 route(s)');
    expect(run.stdout).toContain('chat: primary/gpt-4o  →  local/llama3  →  static');
    expect(run.stdout + run.stderr).not.toContain('sk-test-secret-value');
  });

  it('check rejects a bad config naming file, line, path and expectation (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'providers:\n  p: { type: openai, base_url: http://127.0.0.1:1/v1 }\nroutes:\n  chat:\n    ladder:\n      - targets: [q/model]\n');
    const run = await cli(['check', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file}:6:`);
    expect(run.stderr).toContain("routes.chat.ladder[0].targets[0]: unknown provider 'q' in 'q/model' (expected one of: p)");
  });

  it('start without --demo and without a config is an error that says how to write one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-'));
    const run = await cli(['start'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('needs a config file');
    expect(run.stderr).toContain('routes:');
    expect(run.stderr).toContain('understudy start --demo');
  });

  it('start refuses a non-loopback address without --insecure', async () => {
    const run = await cli(['start', '--config', EXAMPLE, '--host', '0.0.0.0'], { env: { OPENAI_API_KEY: 'x' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--insecure');
  });

  it('start --demo prints the banner with URL, curl line and what to watch, and stops on SIGTERM', async () => {
    const run = await cli(['start', '--demo', '--port', '0', '--no-traffic'], { until: /Ctrl-C stops it/ });
    expect(run.stdout).toMatch(/gateway is running at http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(run.stdout).toContain('curl -si http://127.0.0.1:');
    expect(run.stdout).toContain('x-understudy-fallback-reason');
    expect(run.code).toBe(0);
  });

  it('unknown commands print the usage (exit 2)', async () => {
    const run = await cli(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage:');
  });
});
