import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfigFile, parseConfig, type LoadOptions } from './load.js';

const SECRET = 'sk-file-secret-0123456789';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'understudy-file-ref-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const config = (provider: string): string => `providers:
  p: ${provider}
routes:
  chat:
    ladder:
      - targets: [p/m]
`;

function problemsOf(text: string, options: LoadOptions = {}): ConfigError {
  try {
    parseConfig(text, 'test.yaml', { env: {}, baseDir: dir, ...options });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('${file:...} references', () => {
  it('reads the file’s trimmed content, unquoted inside a flow map', () => {
    const path = join(dir, 'key');
    writeFileSync(path, `  ${SECRET}\n\n`);
    const loaded = parseConfig(config(`{ type: openai, api_key: \${file:${path}} }`), 't', { env: {} });
    expect(loaded.providers.p?.apiKey?.reveal()).toBe(SECRET);
    expect(JSON.stringify(loaded)).not.toContain(SECRET);
    expect(inspect(loaded, { depth: 10 })).not.toContain(SECRET);
  });

  it('reads a relative path from the config file’s directory, and inside a longer string', () => {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'token'), 'abc123\n');
    writeFileSync(join(dir, 'understudy.yaml'), config('{ type: openai, headers: { x-token: "t-${file:secrets/token}" } }'));
    const loaded = loadConfigFile(join(dir, 'understudy.yaml'), { env: {} });
    expect(loaded.providers.p?.headers).toEqual({ 'x-token': 't-abc123' });
  });

  it('reports every referenced path to onFileRef, readable or not', () => {
    writeFileSync(join(dir, 'a'), 'one');
    const seen: string[] = [];
    problemsOf(config('{ type: openai, api_keys: [${file:a}, ${file:missing}] }'), { onFileRef: (p) => seen.push(p) });
    expect(seen).toEqual([join(dir, 'a'), join(dir, 'missing')]);
  });

  it('a missing file is an error naming the path, the key and the line', () => {
    const error = problemsOf(config('{ type: openai, api_key: ${file:/nonexistent/understudy/key} }'));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ path: 'providers.p.api_key', line: 2 });
    expect(error.message).toContain('test.yaml:2:');
    expect(error.problems[0]?.message).toBe('file /nonexistent/understudy/key not found (referenced as ${file:/nonexistent/understudy/key})');
  });

  it('an empty file, a directory or a huge file is an error that never prints the content', () => {
    writeFileSync(join(dir, 'empty'), ' \n');
    writeFileSync(join(dir, 'huge'), `${SECRET}\n`.repeat(4_000));
    const error = problemsOf(config('{ type: openai, api_keys: [${file:empty}, ${file:.}, ${file:huge}] }'));
    expect(error.problems.map((p) => p.path)).toEqual(['providers.p.api_keys[0]', 'providers.p.api_keys[1]', 'providers.p.api_keys[2]']);
    expect(error.problems[0]?.message).toContain('is empty');
    expect(error.problems[1]?.message).toContain('is not a regular file');
    expect(error.problems[2]?.message).toContain('larger than 64 KiB');
    expect(error.message).not.toContain(SECRET);
  });

  it('env and file references mix, and a file the schema refuses is reported without its content', () => {
    writeFileSync(join(dir, 'url'), `not a url ${SECRET}`);
    const error = problemsOf(config('{ type: openai, base_url: ${file:url}, api_key: ${env:NOPE} }'));
    expect(error.problems.map((p) => p.path)).toEqual(['providers.p.api_key']);
    const schema = problemsOf(config('{ type: openai, base_url: ${file:url} }'));
    expect(schema.problems[0]?.path).toBe('providers.p.base_url');
    expect(schema.message).not.toContain(SECRET);
  });
});

describe('api_keys: a credential pool', () => {
  it('holds every key in order; api_key alone is a pool of one; no key is an empty pool', () => {
    const pool = parseConfig(config('{ type: openai, api_keys: [${env:K1}, ${env:K2}] }'), 't', { env: { K1: 'sk-one-111111', K2: 'sk-two-222222' } });
    expect(pool.providers.p?.apiKeys.map((k) => k.reveal())).toEqual(['sk-one-111111', 'sk-two-222222']);
    expect(pool.providers.p?.apiKey?.reveal()).toBe('sk-one-111111');
    expect(JSON.stringify(pool)).not.toContain('sk-one');
    const single = parseConfig(config('{ type: openai, api_key: sk-single-1234 }'), 't', { env: {} });
    expect(single.providers.p?.apiKeys.map((k) => k.reveal())).toEqual(['sk-single-1234']);
    expect(parseConfig(config('{ type: openai }'), 't', { env: {} }).providers.p?.apiKeys).toEqual([]);
  });

  it('refuses api_key with api_keys, an empty list, and a repeated key (named by position, not value)', () => {
    expect(problemsOf(config('{ type: openai, api_key: a-key-1, api_keys: [a-key-2] }')).problems[0]).toMatchObject({
      path: 'providers.p.api_keys',
      message: 'set api_key (one key) or api_keys (a pool), not both',
    });
    expect(problemsOf(config('{ type: openai, api_keys: [] }')).problems[0]?.path).toBe('providers.p.api_keys');
    const repeated = problemsOf(config('{ type: openai, api_keys: [sk-dup-123456, sk-other-1234, sk-dup-123456] }'));
    expect(repeated.problems[0]).toMatchObject({ path: 'providers.p.api_keys[2]', message: 'the same key as api_keys[0]', line: 2 });
    expect(repeated.message).not.toContain('sk-dup');
  });
});
