import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { runBehaviour } from './behaviours.js';
import { type SimClock, systemClock } from './clock.js';
import { sendError } from './completion.js';
import type { Dialect, Format, SimError, SimRequest } from './dialect.js';
import { anthropic } from './dialects/anthropic.js';
import { gemini } from './dialects/gemini.js';
import { OWNED_BY, openai } from './dialects/openai.js';
import type { EmbeddingWire } from './dialects/embeddings.js';
import { isRecord } from './dialects/read.js';
import { embeddingEndpoint, embeddingFeatures, runEmbeddingBehaviour } from './embeddings.js';
import { Exchange } from './exchange.js';
import { unixSeconds } from './payloads.js';
import { resolveScenario } from './resolve.js';
import { type Scenario, scenarioSchema } from './scenario.js';

export type { Format as SimulatorFormat } from './dialect.js';

export interface SimulatorOptions {
  /** model id -> behaviour (the same script answers in every wire format) */
  models: Record<string, Scenario>;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Used for scheduled outages only. Default: wall clock. */
  clock?: SimClock;
  /**
   * When set, requests must carry this key in their format's auth slot: `Authorization: Bearer <apiKey>`
   * (OpenAI), `x-api-key` (Anthropic), `x-goog-api-key` or `?key=` (Gemini).
   */
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
   * before any scenario ran: 'invalid_json' | 'missing_model' | 'unauthorized' | 'missing_field' | 'model_not_found'.
   */
  outcome: string;
  /**
   * Wire format of the request: `/v1/chat/completions` (and Azure OpenAI's
   * `/openai/deployments/{deployment}/chat/completions`), `/v1/messages` or `…:generateContent`.
   */
  format: Format;
  /** The raw request headers (lower-cased names; repeated headers joined with ', '). */
  headers: Record<string, string>;
  /** The client closed the connection before the answer was complete (a cancelled or lost-hedge request); set when it happens. */
  clientClosed?: boolean;
  /** `embed` for embeddings requests (`/v1/embeddings`, `:embedContent`, `:batchEmbedContents`); absent for chat/generate requests. */
  operation?: 'embed';
}

export interface Simulator {
  /** OpenAI base URL, e.g. 'http://127.0.0.1:PORT/v1'; valid after listen(). */
  readonly url: string;
  /**
   * 'http://127.0.0.1:PORT': the base URL of the Anthropic (`/v1/messages`) and Gemini
   * (`/v1beta/models/{model}:generateContent`) endpoints, as their SDKs expect it; also the
   * `base_url` of an Azure OpenAI provider (`/openai/deployments/{model}/chat/completions`).
   */
  readonly origin: string;
  /**
   * Provider base URLs as configured for each format: `{origin}/v1` (OpenAI), `{origin}` (Anthropic:
   * the SDK appends `/v1/messages`), `{origin}/v1beta` (Gemini: `/models/{model}:generateContent` follows).
   */
  readonly baseUrls: Readonly<Record<Format, string>>;
  readonly port: number;
  listen(): Promise<void>;
  /** Closes the server and destroys every open socket (stalled / unanswered requests included). */
  close(): Promise<void>;
  /** Every model request received (all formats), in order. */
  calls: SimulatorCall[];
  callsFor(model: string): SimulatorCall[];
  /** Adds/replaces a model at runtime (resets its fail_first counters). */
  setModel(model: string, scenario: Scenario): void;
  /** Clears calls and fail_first counters. */
  reset(): void;
  /** Requests currently in progress. */
  openConnections(): number;
}

/** A model endpoint resolved from the URL: format plus what the path says (Gemini: model and streaming). */
interface Route {
  dialect: Dialect;
  model?: string;
  stream?: boolean;
  /** Set for embeddings endpoints: the request is read and answered in this embeddings wire format. */
  embed?: EmbeddingWire;
}

const GEMINI_METHOD = /^\/(?:v1beta|v1|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
/** Azure OpenAI: the deployment in the path names the model; the wire is OpenAI's (`?api-version=` is ignored). */
const AZURE_DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
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

  get origin(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.boundPort}`;
  }

  get url(): string {
    return `${this.origin}/v1`;
  }

  get baseUrls(): Readonly<Record<Format, string>> {
    return { openai: this.url, anthropic: this.origin, gemini: `${this.origin}/v1beta` };
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
      else sendError(x, x.dialect, { stream: false }, { kind: 'status', status: 500 });
    });
  }

  private async route(x: Exchange): Promise<void> {
    const method = x.req.method ?? 'GET';
    const url = new URL(x.req.url ?? '/', 'http://simulator');
    const path = url.pathname.replace(/\/+$/, '') || '/';

    if (method === 'GET' && path === '/health') return x.sendJson(200, { status: 'ok' });
    const route = this.modelEndpoint(method, path);
    if (route) return this.generate(x, url, route);

    // Anthropic clients always send `anthropic-version`; the OpenAI shape is the default for /v1.
    const fallback = path.startsWith('/v1beta/') ? gemini : x.req.headers['anthropic-version'] !== undefined ? anthropic : openai;
    x.speak(fallback);
    if (method === 'GET' && /^\/(v1|v1beta)\/models(\/|$)/.test(path)) {
      if (!this.authorized(x, fallback, url)) {
        return sendError(x, fallback, { stream: false }, { kind: 'unauthorized', key: fallback.apiKey(x.req, url) });
      }
      return this.modelsEndpoint(x, fallback, path);
    }
    return sendError(x, fallback, { stream: false }, { kind: 'invalid_url', method, path });
  }

  private modelEndpoint(method: string, path: string): Route | undefined {
    if (method !== 'POST') return undefined;
    const embeddings = embeddingEndpoint(path);
    if (embeddings) return embeddings;
    if (path === '/v1/chat/completions') return { dialect: openai };
    if (path === '/v1/messages') return { dialect: anthropic };
    const m = GEMINI_METHOD.exec(path);
    if (m) return { dialect: gemini, model: decodeURIComponent(m[1] ?? ''), stream: m[2] === 'streamGenerateContent' };
    const azure = AZURE_DEPLOYMENT.exec(path);
    if (azure) return { dialect: openai, model: decodeURIComponent(azure[1] ?? '') };
    return undefined;
  }

  private authorized(x: Exchange, d: Dialect, url: URL): boolean {
    return this.apiKey === undefined || d.apiKey(x.req, url) === this.apiKey;
  }

  private modelsEndpoint(x: Exchange, d: Dialect, path: string): void {
    const prefix = d === gemini ? '/v1beta/models' : '/v1/models';
    const ids = [...this.models.keys()];
    const id = path === prefix ? undefined : decodeURIComponent(path.slice(prefix.length + 1));
    if (id !== undefined && !this.models.has(id)) return sendError(x, d, { stream: false }, { kind: 'model_not_found', model: id });
    const created = new Date(this.createdS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    switch (d.format) {
      case 'openai': {
        const entry = (m: string): Record<string, unknown> => ({ id: m, object: 'model', created: this.createdS, owned_by: OWNED_BY });
        return x.sendJson(200, id === undefined ? { object: 'list', data: ids.map(entry) } : entry(id));
      }
      case 'anthropic': {
        const entry = (m: string): Record<string, unknown> => ({ type: 'model', id: m, display_name: m, created_at: created });
        if (id !== undefined) return x.sendJson(200, entry(id));
        return x.sendJson(200, { data: ids.map(entry), has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null });
      }
      case 'gemini': {
        const entry = (m: string): Record<string, unknown> => ({
          name: `models/${m}`,
          version: '001',
          displayName: m,
          inputTokenLimit: 1048576,
          outputTokenLimit: 8192,
          supportedGenerationMethods: ['generateContent', 'countTokens'],
        });
        const body = id === undefined ? { models: ids.map(entry) } : entry(id);
        return x.send(200, `${JSON.stringify(body, null, 2)}\n`, { 'content-type': gemini.jsonContentType });
      }
    }
  }

  /** One model request in any format: the same checks, the same scenario resolution, the format's bytes. */
  private async generate(x: Exchange, url: URL, route: Route): Promise<void> {
    const d = route.dialect;
    x.speak(d);
    const raw = await x.readBody();
    if (raw === undefined || x.closed) return;
    const headers = flatHeaders(x.req);
    const operation = route.embed ? ({ operation: 'embed' } as const) : {};
    const record = (model: string, stream: boolean, body: Record<string, unknown>, outcome: string): void => {
      this.calls.push({ model, stream, at: this.clock.now(), body, outcome, format: d.format, headers, ...operation });
    };
    const reject = (model: string, stream: boolean, body: Record<string, unknown>, outcome: string, e: SimError): void => {
      record(model, stream, body, outcome);
      sendError(x, d, { stream, model: model || undefined }, e);
    };

    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (!isRecord(body)) return reject(route.model ?? '', route.stream ?? false, {}, 'invalid_json', { kind: 'invalid_json' });
    const stream = route.stream ?? body['stream'] === true;
    const model = route.model ?? body['model'];
    if (typeof model !== 'string' || model === '') return reject('', stream, body, 'missing_model', { kind: 'missing_model' });
    const apiKey = d.apiKey(x.req, url);
    if (!this.authorized(x, d, url)) return reject(model, stream, body, 'unauthorized', { kind: 'unauthorized', key: apiKey });
    const missing = (route.embed ?? d).missingField(body);
    if (missing !== undefined) return reject(model, stream, body, 'missing_field', { kind: 'missing_field', field: missing });
    const scenario = this.models.get(model);
    if (!scenario) return reject(model, stream, body, 'model_not_found', { kind: 'model_not_found', model });

    const now = this.clock.now();
    const counters = this.counters.get(model) ?? new Map<string, number>();
    this.counters.set(model, counters);
    const leaf = resolveScenario(scenario, { counters, now, epoch: this.epoch });
    const call: SimulatorCall = { model, stream, at: now, body, outcome: leaf.kind, format: d.format, headers, ...operation };
    this.calls.push(call);
    void x.finished.then(() => {
      if (x.clientClosed) call.clientClosed = true;
    });

    const features = route.embed ? embeddingFeatures(route.embed, body) : d.features(body);
    const request: SimRequest = { format: d.format, model, stream, body, apiKey, ...features };
    if (route.embed) return runEmbeddingBehaviour(leaf, x, d, route.embed, request);
    await runBehaviour(leaf, x, d, request);
  }
}

/** A fake OpenAI / Anthropic / Gemini-wire upstream whose models misbehave by script. Call `listen()` before use. */
export function createSimulator(opts: SimulatorOptions): Simulator {
  return new SimulatorServer(opts);
}
