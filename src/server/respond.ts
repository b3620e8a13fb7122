import type { ServerResponse } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';

/** OpenAI's error shape: `{error:{message,type,param,code}}`. */
export function openAIErrorBody(error: ClientError, extra?: Record<string, unknown>): string {
  return JSON.stringify({
    error: { message: error.message, type: error.type, param: error.param, code: error.code, ...(extra ?? {}) },
  });
}

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

export function sendError(res: ServerResponse, error: ClientError, headers: Record<string, string> = {}, extra?: Record<string, unknown>): void {
  const all = { ...headers };
  if (error.retryAfterMs !== undefined) {
    all['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    all['retry-after-ms'] = String(error.retryAfterMs);
  }
  sendJson(res, error.status, openAIErrorBody(error, extra), all);
}

/** A client error the server itself detects (bad input). */
export function badRequest(message: string, code: string, param: string | null = null, status = 400): ClientError {
  return { status, message, type: 'invalid_request_error', code, param };
}
