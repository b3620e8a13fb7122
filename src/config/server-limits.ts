import { z } from 'zod';

/**
 * The `server:` keys that bound what a client can make the gateway hold or do: hostile input
 * (message count, JSON nesting, header size, slow senders, idle connections) and how long a
 * shutdown waits for requests in flight. Schema keys, their resolved form and defaults live
 * together here; schema.ts and resolve.ts spread them into the `server` section.
 */
export interface ServerLimits {
  /** Requests with more messages are refused (400, the API's own error shape). */
  maxMessages: number;
  /** JSON bodies nested deeper than this are refused (400) before they are parsed. */
  maxJsonDepth: number;
  /** Node's `maxHeaderSize`: larger request heads get 431. */
  maxHeaderBytes: number;
  /** Node's `requestTimeout` and `headersTimeout`: the whole request (head and body) must arrive within it, else 408. Never limits a response. */
  requestTimeoutMs: number;
  /** Node's `keepAliveTimeout`: an idle keep-alive connection is closed after it. */
  idleTimeoutMs: number;
  /** On SIGTERM/SIGINT: how long requests and streams in flight may take to finish before they are ended. */
  shutdownGraceMs: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = {
  maxMessages: 2_000,
  maxJsonDepth: 128,
  maxHeaderBytes: 16 * 1024,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 5_000,
  shutdownGraceMs: 10_000,
};

const positiveInt = z.number().int().positive();

/** The keys as written in YAML (spread into the `server` strictObject). */
export const serverLimitKeys = {
  max_messages: positiveInt.optional(),
  max_json_depth: z.number().int().min(2).max(1_000).optional(),
  max_header_bytes: z.number().int().min(1_024).max(1_048_576).optional(),
  request_timeout_ms: positiveInt.optional(),
  idle_timeout_ms: positiveInt.optional(),
  shutdown_grace_ms: z.number().int().min(0).optional(),
};

type RawLimits = { [K in keyof typeof serverLimitKeys]?: number | undefined };

/** The resolved limits: each key from the file, else its default. */
export function serverLimits(raw: RawLimits | undefined): ServerLimits {
  const d = DEFAULT_SERVER_LIMITS;
  return {
    maxMessages: raw?.max_messages ?? d.maxMessages,
    maxJsonDepth: raw?.max_json_depth ?? d.maxJsonDepth,
    maxHeaderBytes: raw?.max_header_bytes ?? d.maxHeaderBytes,
    requestTimeoutMs: raw?.request_timeout_ms ?? d.requestTimeoutMs,
    idleTimeoutMs: raw?.idle_timeout_ms ?? d.idleTimeoutMs,
    shutdownGraceMs: raw?.shutdown_grace_ms ?? d.shutdownGraceMs,
  };
}
