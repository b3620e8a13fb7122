import type { ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';

export function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** A client error the server itself detects (bad input). */
export function badRequest(message: string, code: string, param: string | null = null, status = 400): ClientError {
  return { status, message, type: 'invalid_request_error', code, param };
}
