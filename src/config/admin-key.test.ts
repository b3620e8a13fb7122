import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load.js';

const KEY = 'adm-from-env-0123456789';
const file = (server: string): string => `server: ${server}
providers:
  p: { type: openai, base_url: https://api.openai.com/v1 }
routes:
  chat: { ladder: [{ targets: [p/m] }] }
`;

describe('server.admin_key', () => {
  it('is read from the environment into a secret that never prints', () => {
    const config = parseConfig(file('{ admin_key: ${env:UNDERSTUDY_ADMIN_KEY} }'), 'test.yaml', { env: { UNDERSTUDY_ADMIN_KEY: KEY } });
    expect(config.server.adminKey?.reveal()).toBe(KEY);
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(inspect(config, { depth: 10 })).not.toContain(KEY);
  });

  it('is absent by default (the admin API and fault headers are then refused)', () => {
    expect(parseConfig(file('{ port: 0 }'), 'test.yaml', { env: {} }).server.adminKey).toBeUndefined();
  });

  it('must be at least 16 characters, and the error does not repeat it', () => {
    let error: unknown;
    try {
      parseConfig(file('{ admin_key: short-key }'), 'test.yaml', { env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('server.admin_key');
    expect(String(error)).toContain('at least 16 characters');
    expect(String(error)).not.toContain('short-key');
  });
});
