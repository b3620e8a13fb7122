import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load.js';

const base = `providers:
  primary: { type: openai, base_url: https://api.openai.com/v1 }
routes:
  chat:
    ladder:
      - targets: [primary/gpt-4o]
`;

function problems(yaml: string, env: Record<string, string> = {}): string {
  try {
    parseConfig(yaml, 'test.yaml', { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config: state', () => {
  it('is in memory unless configured', () => {
    expect(parseConfig(base, 'test.yaml', { env: {} }).state).toEqual({ backend: 'memory' });
    expect(parseConfig(`${base}state: { backend: memory }\n`, 'test.yaml', { env: {} }).state).toEqual({ backend: 'memory' });
  });

  it('redis: defaults for every key', () => {
    const state = parseConfig(`${base}state: { backend: redis }\n`, 'test.yaml', { env: {} }).state;
    expect(state).toMatchObject({ backend: 'redis', prefix: 'understudy:', onRedisDown: 'local', commandTimeoutMs: 150 });
    expect(state.backend === 'redis' && state.url.reveal()).toBe('redis://127.0.0.1:6379');
  });

  it('redis: reads every key; the URL comes from the environment and is held as a secret', () => {
    const yaml = `${base}state: { backend: redis, url: \${env:REDIS_URL}, prefix: "prod:", on_redis_down: refuse, command_timeout_ms: 200 }\n`;
    const config = parseConfig(yaml, 'test.yaml', { env: { REDIS_URL: 'redis://:hunter2@redis.internal:6380/2' } });
    expect(config.state).toMatchObject({ backend: 'redis', prefix: 'prod:', onRedisDown: 'refuse', commandTimeoutMs: 200 });
    if (config.state.backend !== 'redis') throw new Error('expected redis');
    expect(config.state.url.reveal()).toBe('redis://:hunter2@redis.internal:6380/2');
    expect(JSON.stringify(config.state)).not.toContain('hunter2');
    expect(inspect(config.state)).not.toContain('hunter2');
  });

  it('rejects a URL that is not redis:// or rediss://, without repeating it', () => {
    const message = problems(`${base}state: { backend: redis, url: "http://user:hunter2@example.com" }\n`);
    expect(message).toContain('state.url: expected a redis:// or rediss:// URL');
    expect(message).not.toContain('hunter2');
  });

  it.each([
    ['state: { backend: etcd }', 'state.backend'],
    ['state: { backend: redis, on_redis_down: ignore }', 'state.on_redis_down'],
    ['state: { backend: redis, command_timeout_ms: 0 }', 'state.command_timeout_ms'],
    ['state: { backend: redis, prefix: "" }', 'state.prefix'],
    ['state: { backend: redis, host: localhost }', 'state.host'],
    ['state: { url: "redis://127.0.0.1:6379" }', 'state.url: url applies to backend: redis only'],
  ])('rejects %s, naming %s', (yaml, where) => {
    expect(problems(`${base}${yaml}\n`)).toContain(where);
  });
});
