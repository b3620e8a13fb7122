import { setMaxListeners } from 'node:events';
import type { Server, ServerResponse } from 'node:http';
import type { Logger } from '../telemetry/logger.js';
import { sendApiError } from './handle-inference.js';
import type { InboundApi } from './inbound/inbound-api.js';
import { SHUTTING_DOWN } from './shutdown-stream.js';

/** After the grace period: how long handlers get to write their ends before every connection is closed. */
const END_WAIT_MS = 1_000;

interface InFlight {
  api: InboundApi;
  headers: Record<string, string>;
}

export interface DrainResult {
  /** Requests in flight when the shutdown began. */
  inFlight: number;
  /** Of those, the ones still open when the grace period ended (answered or ended with SHUTTING_DOWN). */
  ended: number;
}

/**
 * Graceful shutdown of the HTTP server: stop accepting connections, let the requests and streams
 * in flight finish within a grace period, then end the rest cleanly in their API's error shape —
 * never a truncated success — and close every connection.
 */
export class Drain {
  private readonly inFlight = new Map<ServerResponse, InFlight>();
  private readonly grace = new AbortController();
  private wake: (() => void) | undefined;
  private result: Promise<DrainResult> | undefined;

  constructor() {
    // One listener per request in flight (each removed when its response closes): no limit to warn at.
    setMaxListeners(0, this.grace.signal);
  }

  /** True from the moment `shutdown` is called. */
  get draining(): boolean {
    return this.result !== undefined;
  }

  /** Requests being served now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Aborted when the grace period is over: requests still running stop, streams end with SHUTTING_DOWN. */
  get graceOver(): AbortSignal {
    return this.grace.signal;
  }

  /**
   * Tracks every response until it closes (a shutdown waits for them). While draining, a request
   * that is not `exempt` (health checks are) is refused instead: 503 in `api`'s shape. Either way
   * its connection closes after the response.
   */
  admit(res: ServerResponse, api: InboundApi, headers: Record<string, string>, exempt = false): boolean {
    this.inFlight.set(res, { api, headers });
    res.once('close', () => {
      this.inFlight.delete(res);
      if (this.draining && this.inFlight.size === 0) this.wake?.();
    });
    if (!this.draining) return true;
    res.setHeader('connection', 'close');
    if (exempt) return true;
    sendApiError(res, api, SHUTTING_DOWN, { ...headers, connection: 'close' });
    return false;
  }

  /** Drains `server` (once; later calls share the first). Resolves when every connection is closed. */
  shutdown(server: Server, graceMs: number): Promise<DrainResult> {
    this.result ??= this.run(server, graceMs);
    return this.result;
  }

  private async run(server: Server, graceMs: number): Promise<DrainResult> {
    const inFlight = this.inFlight.size;
    // No new connections; idle keep-alive connections close now. Answers not yet started close
    // theirs when they end; a stream's connection (headers long sent) closes with the rest at the end.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of this.inFlight.keys()) if (!res.headersSent) res.setHeader('connection', 'close');
    await this.untilIdle(graceMs);
    const ended = this.inFlight.size;
    if (ended > 0) {
      for (const [res, { api, headers }] of this.inFlight) {
        if (!res.headersSent) sendApiError(res, api, SHUTTING_DOWN, { ...headers, connection: 'close' });
      }
      this.grace.abort();
      await this.untilIdle(END_WAIT_MS);
    }
    server.closeAllConnections();
    await closed;
    return { inFlight, ended };
  }

  private untilIdle(ms: number): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/** Writes out what the logger has buffered (bounded: a stuck destination does not hold the exit). */
export function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
