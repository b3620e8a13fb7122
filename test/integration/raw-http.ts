/**
 * HTTP at the socket level, for what a well-behaved client library will not do: send bytes
 * slowly, send oversized heads, stop reading mid-response, or hang up at a chosen moment.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RawExchange {
  /** Everything the server sent, as latin1 text (bytes preserved). */
  text: string;
  /** The status of the first response, or undefined when none arrived. */
  status: number | undefined;
  /** ms from connecting until the server closed the connection (or we gave up). */
  closedAfterMs: number;
  /** True when the server closed the connection; false when `timeoutMs` ran out first. */
  closedByServer: boolean;
  /** The socket error that ended the exchange, if one did (e.g. ECONNRESET). */
  error?: string;
}

export interface RawOptions {
  /** Give up (and destroy the socket) after this long. Default 5000. */
  timeoutMs?: number;
  /** Sends the request in parts with `gapMs` between them. */
  parts?: (string | Buffer)[];
  gapMs?: number;
  /** Hang up ourselves once this many response bytes arrived (0: right after sending). */
  hangUpAfterBytes?: number;
  /** Hang up ourselves this long after the request was sent. */
  hangUpAfterMs?: number;
}

/** Opens a connection to 127.0.0.1:`port`, writes `request`, and collects what comes back. */
export function rawExchange(port: number, request: string | Buffer, options: RawOptions = {}): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let error: string | undefined;
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: match ? Number(match[1]) : undefined, closedAfterMs: performance.now() - started, closedByServer, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 5_000);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (options.hangUpAfterBytes !== undefined && received >= options.hangUpAfterBytes) finish(false);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
      finish(true);
    });
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      void (async () => {
        for (const part of [request, ...(options.parts ?? [])]) {
          if (settled) return;
          if (part !== request && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
          if (!socket.writable) return;
          socket.write(part);
        }
        if (options.hangUpAfterBytes === 0) finish(false);
        else if (options.hangUpAfterMs !== undefined) setTimeout(() => finish(false), options.hangUpAfterMs);
      })();
    });
  });
}

/** A POST of `body` (a string or raw bytes) as HTTP/1.1 text. */
export function rawPost(path: string, body: string | Buffer, headers: Record<string, string> = {}): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const head = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', 'content-type: application/json', `content-length: ${bytes.length}`, 'connection: close']
    .concat(Object.entries(headers).map(([k, v]) => `${k}: ${v}`))
    .join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`), bytes]);
}

/** The body of a raw response (after the head; chunked encoding undone). */
export function rawBody(text: string): string {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return '';
  const head = text.slice(0, split).toLowerCase();
  const body = text.slice(split + 4);
  if (!head.includes('transfer-encoding: chunked')) return body;
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
