import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { defaultKeys, resolveKeys, type KeysProblem } from './keys-config.js';
import { parseConfig } from './load.js';

const BASE = 'providers:\n  p: { type: openai, base_url: http://127.0.0.1:1/v1 }\nroutes:\n  chat: { ladder: [ { targets: [p/m] } ] }\n';

describe('keys: config', () => {
  it('is absent unless configured (the CLI then uses understudy-keys.json beside the config)', () => {
    expect(parseConfig(BASE, 'c.yaml', { env: {} }).keys).toBeUndefined();
    expect(defaultKeys('/etc/understudy')).toEqual({ store: 'file', file: '/etc/understudy/understudy-keys.json', required: false });
  });

  it('resolves a relative file against the config directory, and keeps required', () => {
    const problems: KeysProblem[] = [];
    expect(resolveKeys({ file: 'secrets/keys.json', required: true }, '/srv/gw', problems)).toEqual({ store: 'file', file: '/srv/gw/secrets/keys.json', required: true });
    expect(resolveKeys({}, '/srv/gw', problems)).toEqual({ store: 'file', file: '/srv/gw/understudy-keys.json', required: false });
    expect(resolveKeys({ file: '/abs/keys.json' }, '/srv/gw', problems)).toMatchObject({ file: '/abs/keys.json' });
    expect(problems).toEqual([]);
  });

  it('redis: needs a url (held as a secret), takes a prefix', () => {
    const problems: KeysProblem[] = [];
    const keys = resolveKeys({ store: 'redis', url: 'redis://:pw@127.0.0.1:6379', prefix: 'gw1:' }, '/srv', problems);
    expect(keys?.store).toBe('redis');
    expect(JSON.stringify(keys)).not.toContain('pw@');
    expect(keys).toMatchObject({ prefix: 'gw1:', required: false });
    resolveKeys({ store: 'redis' }, '/srv', problems);
    expect(problems).toEqual([{ path: ['keys', 'url'], message: expect.stringContaining('needs a url') }]);
  });

  it('redis without a url of its own shares the state: Redis and its prefix', () => {
    const problems: KeysProblem[] = [];
    const keys = resolveKeys({ store: 'redis' }, '/srv', problems, { backend: 'redis', url: 'redis://10.0.0.5:6379', prefix: 'prod:' });
    expect(problems).toEqual([]);
    expect(keys?.store === 'redis' ? [keys.url.reveal(), keys.prefix] : []).toEqual(['redis://10.0.0.5:6379', 'prod:']);
    expect(resolveKeys({ store: 'redis' }, '/srv', problems, { backend: 'redis' })).toMatchObject({ prefix: 'understudy:' });
    expect(problems).toEqual([]);
  });

  it('reports keys that do not belong to the store, by path', () => {
    expect(() => parseConfig(`${BASE}keys: { file: k.json, url: redis://x }\n`, 'c.yaml', { env: {} })).toThrow(ConfigError);
    expect(() => parseConfig(`${BASE}keys: { file: k.json, url: redis://x }\n`, 'c.yaml', { env: {} })).toThrow(/keys\.url: url applies to store: redis/);
    expect(() => parseConfig(`${BASE}keys: { requierd: true }\n`, 'c.yaml', { env: {} })).toThrow(/unknown key 'requierd'/);
  });
});
