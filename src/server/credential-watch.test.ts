import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../telemetry/logger.js';
import { createCredentialPools } from './credential-pools.js';
import { watchCredentials, type CredentialWatch } from './credential-watch.js';

const FILE_KEY = 'file-credential-aaaa-0001';
const FILE_KEY_2 = 'file-credential-bbbb-0002';
const LIST_KEY = 'list-credential-cccc-0003';

let dir: string;
let watch: CredentialWatch | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'understudy-cred-watch-'));
});
afterEach(() => {
  watch?.close();
  watch = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const yaml = (keys: string, route = 'p/m') => `providers:
  p: { type: openai, base_url: http://127.0.0.1:9/v1, api_keys: [${keys}] }
  local: { type: openai, base_url: http://127.0.0.1:9/v1 }
routes:
  chat: { ladder: [{ targets: [${route}] }] }
`;

function setup(keys: string) {
  const path = join(dir, 'understudy.yaml');
  writeFileSync(path, yaml(keys));
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = createLogger('info', { write: (line: string) => (raw.push(line), lines.push(JSON.parse(line) as Record<string, unknown>)) });
  const config = loadConfigFile(path, { env: { LIST_KEY } });
  const pools = createCredentialPools(config, Date.now, logger);
  // A long debounce and poll: these tests call reload() themselves.
  watch = watchCredentials(pools, config, logger, { path, env: { LIST_KEY }, debounceMs: 60_000, pollIntervalMs: 60_000 });
  return { path, pools, lines, raw, keys: () => pools.get('p')?.keys() };
}

describe('watchCredentials', () => {
  it('a changed ${file:} secret swaps the provider’s keys; the log names the provider, never a key', () => {
    writeFileSync(join(dir, 'k1'), `${FILE_KEY}\n`);
    const s = setup('${file:k1}, ${env:LIST_KEY}');
    expect(s.keys()).toEqual([FILE_KEY, LIST_KEY]);
    writeFileSync(join(dir, 'k1'), `${FILE_KEY_2}\n`);
    watch?.reload();
    expect(s.keys()).toEqual([FILE_KEY_2, LIST_KEY]);
    expect(s.lines.map((l) => l.msg)).toEqual(['provider credentials reloaded']);
    expect(s.lines[0]).toMatchObject({ level: 30, providers: [{ provider: 'p', keys: 2 }] });
    // Nothing changed: nothing logged.
    watch?.reload();
    expect(s.lines).toHaveLength(1);
    expect(s.raw.join('')).not.toMatch(/credential-(aaaa|bbbb|cccc)/);
  });

  it('an edited api_keys list applies, and a provider may gain keys it had none of', () => {
    const s = setup('${env:LIST_KEY}');
    writeFileSync(join(dir, 'k2'), FILE_KEY_2);
    writeFileSync(s.path, yaml('${env:LIST_KEY}, ${file:k2}').replace('local: { type: openai,', `local: { type: openai, api_key: ${FILE_KEY},`));
    watch?.reload();
    expect(s.keys()).toEqual([LIST_KEY, FILE_KEY_2]);
    expect(s.pools.get('local')?.keys()).toEqual([FILE_KEY]);
  });

  it('a broken edit is logged once at error level, without keys, and the old keys stay', () => {
    writeFileSync(join(dir, 'k1'), FILE_KEY);
    const s = setup('${file:k1}');
    writeFileSync(s.path, yaml(`${FILE_KEY_2}, \${file:missing}`));
    watch?.reload();
    watch?.reload();
    expect(s.keys()).toEqual([FILE_KEY]);
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toMatchObject({ level: 50, msg: 'config change not applied: the file is invalid; provider credentials unchanged' });
    expect(String(s.lines[0]?.error)).toContain(`file ${join(dir, 'missing')} not found`);
    // Invalid YAML, then a fix: the fix applies.
    writeFileSync(s.path, 'providers: [unclosed');
    watch?.reload();
    expect(s.lines).toHaveLength(2);
    writeFileSync(join(dir, 'missing'), LIST_KEY);
    writeFileSync(s.path, yaml('${file:k1}, ${file:missing}'));
    watch?.reload();
    expect(s.keys()).toEqual([FILE_KEY, LIST_KEY]);
    expect(s.raw.join('')).not.toMatch(/credential-(aaaa|bbbb|cccc)/);
  });

  it('other changes are logged once at info level as needing a restart; the keys still apply', () => {
    const s = setup('${env:LIST_KEY}');
    writeFileSync(s.path, yaml(FILE_KEY, 'local/m').replace('http://127.0.0.1:9/v1, api_keys', 'http://127.0.0.1:8/v1, api_keys'));
    watch?.reload();
    watch?.reload();
    expect(s.keys()).toEqual([FILE_KEY]);
    const restart = s.lines.filter((l) => String(l.msg).includes('restart'));
    expect(restart).toHaveLength(1);
    expect(restart[0]).toMatchObject({ level: 30, changed: ['providers.p', 'routes'] });
  });
});
