import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load.js';
import { DEFAULT_SERVER_LIMITS } from './server-limits.js';

const base = (server: string): string => `server: ${server}\nproviders:\n  p: { type: openai, base_url: http://127.0.0.1:1/v1 }\nroutes:\n  chat: { ladder: [{ targets: p/m }] }\n`;

describe('server limits config', () => {
  it('defaults: 2000 messages, depth 128, 16 KiB heads, 60 s to receive a request, 5 s idle, 10 s grace', () => {
    expect(parseConfig(base('{}'), 't', { env: {} }).server).toMatchObject(DEFAULT_SERVER_LIMITS);
    expect(DEFAULT_SERVER_LIMITS).toEqual({ maxMessages: 2_000, maxJsonDepth: 128, maxHeaderBytes: 16_384, requestTimeoutMs: 60_000, idleTimeoutMs: 5_000, shutdownGraceMs: 10_000 });
  });

  it('reads every key', () => {
    const server = '{ max_messages: 5, max_json_depth: 16, max_header_bytes: 4096, request_timeout_ms: 300, idle_timeout_ms: 200, shutdown_grace_ms: 0 }';
    expect(parseConfig(base(server), 't', { env: {} }).server).toMatchObject({ maxMessages: 5, maxJsonDepth: 16, maxHeaderBytes: 4096, requestTimeoutMs: 300, idleTimeoutMs: 200, shutdownGraceMs: 0 });
  });

  it.each([
    ['max_messages: 0', 'server.max_messages'],
    ['max_header_bytes: 100', 'server.max_header_bytes'],
    ['request_timeout_ms: 0', 'server.request_timeout_ms'],
    ['idle_timeout_ms: -1', 'server.idle_timeout_ms'],
    ['shutdown_grace_ms: 1.5', 'server.shutdown_grace_ms'],
    ['max_json_depth: 1', 'server.max_json_depth'],
  ])('rejects %s, naming the key', (entry, path) => {
    expect(() => parseConfig(base(`{ ${entry} }`), 't', { env: {} })).toThrow(ConfigError);
    expect(() => parseConfig(base(`{ ${entry} }`), 't', { env: {} })).toThrow(path);
  });
});
