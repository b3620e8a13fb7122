import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { runBehaviour } from './behaviours.js';
import { type SimClock, systemClock } from './clock.js';
import type { ChatRequest } from './completion.js';
import * as errors from './errors.js';
import { Exchange } from './exchange.js';
import { OWNED_BY, unixSeconds } from './payloads.js';
import { resolveScenario } from './resolve.js';
import { type Scenario, scenarioSchema } from './scenario.js';

export interface SimulatorOptions {
  /** model id -> behaviour */
  models: Record<string, Scenario>;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Used for scheduled outages only. Default: wall clock. */
  clock?: SimClock;
  /** When set, requests must send `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

export interface SimulatorCall {
  model: string;
  stream: boolean;
  /** clock.now() when the request was handled. */
  at: number;
  body: Record<string, unknown>;
  /**
   * The scenario kind actually executed ('ok', 'status', 'reset', ...), or for requests rejected
   * before any scenario ran: 'invalid_json' | 'missing_model' | 'unauthorized' | 'model_not_found'.
   */
  outcome: string;
}

export interface Simulator {
  /** OpenAI base URL, e.g. 'http://127.0.0.1:PORT/v1'; valid after listen(). */
  readonly url: string;
  readonly port: number;
  listen(): Promise<void>;
  /** Closes the server and destroys every open socket (stalled / unanswered requests included). */
  close(): Promise<void>;
  /** Every chat request received, in order. */
  calls: SimulatorCall[];
  callsFor(model: string): SimulatorCall[];
  /** Adds/replaces a model at runtime (resets its fail_first counters). */
  setModel(model: string, scenario: Scenario): void;
  /** Clears calls and fail_first counters. */
  reset(): void;
  /** Requests currently in progress. */
  openConnections(): number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1]?.trim();
}

class SimulatorServer implements Simulator {
  calls: SimulatorCall[] = [];
  private readonly models = new Map<string, Scenario>();
  private readonly counters = new Map<string, Map<string, number>>();
  private readonly exchanges = new Set<Exchange>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly clock: SimClock;
  private readonly epoch: number;
  private readonly createdS = unixSeconds();
  private readonly apiKey: string | undefined;
  private boundPort = 0;
  private closing: Promise<void> | undefined;

  constructor(opts: SimulatorOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.requestedPort = opts.port ?? 0;
    this.clock = opts.clock ?? systemClock;
    this.epoch = this.clock.now();
    this.apiKey = opts.apiKey;
    for (const [model, scenario] of Object.entries(opts.models)) this.setModel(model, scenario);
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.boundPort}/v1`;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.requestedPort, this.host, () => {
        this.server.off('error', onError);
        this.boundPort = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const open = [...this.exchanges];
    for (const x of open) x.terminate();
    const serverClosed = this.server.listening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    this.server.closeAllConnections();
    this.destroySockets();
    await Promise.all([serverClosed, ...open.map((x) => x.finished)]);
    this.exchanges.clear();
  }

  private destroySockets(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  callsFor(model: string): SimulatorCall[] {
    return this.calls.filter((c) => c.model === model);
  }

  setModel(model: string, scenario: Scenario): void {
    this.models.set(model, scenarioSchema.parse(scenario));
    this.counters.set(model, new Map());
  }

  reset(): void {
    this.calls.length = 0;
    for (const model of this.counters.keys()) this.counters.set(model, new Map());
  }

  openConnections(): number {
    return this.exchanges.size;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const x = new Exchange(req, res);
    this.exchanges.add(x);
    res.on('close', () => this.exchanges.delete(x));
    if (this.closing) {
      x.destroySocket();
      return;
    }
    this.route(x).catch(() => {
      // A bug in a behaviour must not crash the test process; fail the request visibly instead.
      if (x.closed) return;
      if (x.res.headersSent) x.destroySocket();
      else x.sendJson(500, errors.errorForStatus(500));
    });
  }

  private async route(x: Exchange): Promise<void> {
    const method = x.req.method ?? 'GET';
    const path = new URL(x.req.url ?? '/', 'http://simulator').pathname.replace(/\/+$/, '') || '/';

    if (method === 'GET' && path === '/health') return x.sendJson(200, { status: 'ok' });
    if (method === 'POST' && path === '/v1/chat/completions') return this.chat(x);
    if (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      if (!this.authorized(x)) return x.sendJson(401, errors.invalidApiKey(bearerToken(x.req)));
      return this.modelsEndpoint(x, path);
    }
    return x.sendJson(404, errors.invalidUrl(method, path));
  }

  private authorized(x: Exchange): boolean {
    return this.apiKey === undefined || bearerToken(x.req) === this.apiKey;
  }

  private modelsEndpoint(x: Exchange, path: string): void {
    const entry = (id: string): Record<string, unknown> => ({ id, object: 'model', created: this.createdS, owned_by: OWNED_BY });
    if (path === '/v1/models') {
      return x.sendJson(200, { object: 'list', data: [...this.models.keys()].map(entry) });
    }
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    if (this.models.has(id)) return x.sendJson(200, entry(id));
    return x.sendJson(404, errors.modelNotFound(id));
  }

  private record(model: string, stream: boolean, body: Record<string, unknown>, outcome: string): void {
    this.calls.push({ model, stream, at: this.clock.now(), body, outcome });
  }

  private async chat(x: Exchange): Promise<void> {
    const raw = await x.readBody();
    if (raw === undefined || x.closed) return;

    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (!isRecord(body)) {
      this.record('', false, {}, 'invalid_json');
      return x.sendJson(400, errors.invalidJson());
    }
    const stream = body['stream'] === true;
    const model = body['model'];
    if (typeof model !== 'string' || model === '') {
      this.record('', stream, body, 'missing_model');
      return x.sendJson(400, errors.missingModel());
    }
    if (!this.authorized(x)) {
      this.record(model, stream, body, 'unauthorized');
      return x.sendJson(401, errors.invalidApiKey(bearerToken(x.req)));
    }
    const scenario = this.models.get(model);
    if (!scenario) {
      this.record(model, stream, body, 'model_not_found');
      return x.sendJson(404, errors.modelNotFound(model));
    }

    const now = this.clock.now();
    const counters = this.counters.get(model) ?? new Map<string, number>();
    this.counters.set(model, counters);
    const leaf = resolveScenario(scenario, { counters, now, epoch: this.epoch });
    this.calls.push({ model, stream, at: now, body, outcome: leaf.kind });

    const options = body['stream_options'];
    const request: ChatRequest = {
      model,
      stream,
      includeUsage: stream && isRecord(options) && options['include_usage'] === true,
      body,
      apiKey: bearerToken(x.req),
    };
    await runBehaviour(leaf, x, request);
  }
}

/** A fake OpenAI-wire upstream whose models misbehave by script. Call `listen()` before use. */
export function createSimulator(opts: SimulatorOptions): Simulator {
  return new SimulatorServer(opts);
}
