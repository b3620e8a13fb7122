import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dialect } from './dialect.js';
import { openai } from './dialects/openai.js';

const noop = (): void => {};

/**
 * One HTTP request/response pair. Owns every timer and wait started on its behalf, and turns
 * into a no-op sink once the response is finished, the client goes away, or the simulator closes.
 */
export class Exchange {
  /** The wire format replies are shaped for (response headers, request id); OpenAI until routed. */
  private current: Dialect = openai;
  requestId = openai.newRequestId();
  private readonly started = performance.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();
  private terminated = false;
  /** The simulator itself cut the connection (a scripted cut or reset), or is closing. */
  private selfClosed = false;
  /** Set when the client closed the connection before the response was complete (e.g. a lost hedge aborted). */
  clientClosed = false;
  /** Resolves once the response is closed (finished, aborted or its socket destroyed). */
  readonly finished: Promise<void>;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    req.on('error', noop);
    res.on('error', noop);
    this.finished = new Promise((resolve) => {
      res.once('close', () => {
        if (!res.writableFinished && !this.selfClosed) this.clientClosed = true;
        this.terminate();
        resolve();
      });
    });
  }

  /** True once nothing more may be written (finished, client gone, or simulator closing). */
  get closed(): boolean {
    return this.terminated || this.res.destroyed || this.res.writableEnded;
  }

  /** Stops all pending timers and releases every wait. Idempotent. */
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  /** Resolves `true` after `ms`, or `false` as soon as the exchange is closed. */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => resolve(false);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiters.delete(wake);
        resolve(!this.closed);
      }, ms);
      this.timers.add(timer);
      this.waiters.add(wake);
    });
  }

  /** Resolves when the exchange is closed (client gone or simulator closing). */
  untilClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /** Reads the whole request body; `undefined` if the client went away. */
  async readBody(): Promise<string | undefined> {
    const parts: Buffer[] = [];
    try {
      for await (const part of this.req) parts.push(part as Buffer);
    } catch {
      return undefined;
    }
    return Buffer.concat(parts).toString('utf8');
  }

  /** Switches replies to `dialect`'s headers and request-id style. */
  speak(dialect: Dialect): void {
    if (this.current === dialect) return;
    this.current = dialect;
    this.requestId = dialect.newRequestId();
  }

  get dialect(): Dialect {
    return this.current;
  }

  /** The dialect's realistic response headers plus `extra`. */
  headers(extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
    return { ...this.current.baseHeaders(this.requestId, performance.now() - this.started), ...extra };
  }

  writeHead(status: number, extra: OutgoingHttpHeaders = {}): boolean {
    if (this.closed || this.res.headersSent) return false;
    this.res.writeHead(status, this.headers(extra));
    return true;
  }

  /** Writes and waits until the data is handed to the socket; `false` if the exchange is closed. */
  write(data: string | Buffer): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const release = (): void => resolve(false);
      this.waiters.add(release);
      this.res.write(data, () => {
        this.waiters.delete(release);
        resolve(!this.closed);
      });
    });
  }

  end(data?: string): void {
    if (this.closed) return;
    if (data === undefined) this.res.end();
    else this.res.end(data);
  }

  /** A complete response with a JSON body. */
  sendJson(status: number, body: unknown, extra: OutgoingHttpHeaders = {}): void {
    this.send(status, JSON.stringify(body), { 'content-type': 'application/json', ...extra });
  }

  /** A complete response with a text body (`headers` should name the content-type). */
  send(status: number, text: string, headers: OutgoingHttpHeaders): void {
    if (!this.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) })) return;
    this.end(text);
  }

  /** Kills the connection: `reset` sends a TCP RST (ECONNRESET), otherwise a plain close mid-response. */
  destroySocket(reset = false): void {
    this.selfClosed = true;
    const socket = this.req.socket;
    if (reset && typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
    this.terminate();
  }
}
