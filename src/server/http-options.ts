import type { ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '../config/server-limits.js';

export type HttpLimits = Pick<ServerLimits, 'maxHeaderBytes' | 'requestTimeoutMs' | 'idleTimeoutMs'>;

/**
 * node:http's own limits, from `server:` config. `requestTimeout` (and `headersTimeout`) cover
 * receiving the request only: once the body has arrived Node stops timing it, so a long stream
 * is never cut. Node checks those timers every `connectionsCheckingInterval` (30 s by default),
 * so the interval follows the timeout to keep the cut-off close to what was configured.
 */
export function httpServerOptions(limits: HttpLimits = DEFAULT_SERVER_LIMITS): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(limits.requestTimeoutMs / 4))),
    keepAliveTimeout: limits.idleTimeoutMs,
  };
}

/** The statuses Node itself would send for a request it could not parse or did not receive in time. */
const CLIENT_ERROR_STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * The server's `clientError` handler: a request node:http could not parse (or that arrived too
 * slowly) is answered with a bare status and the connection closed. Nothing is written when a
 * response on that connection has already started (that would corrupt it); it is just closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  } else {
    socket.destroy();
  }
}
