import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import type { Config } from '../config/types.js';
import type { RequestRecord } from '../engine/attempt.js';
import { CircuitBreakers } from '../engine/breakers.js';
import { HealthProber, routeTargets } from '../engine/health-probes.js';
import { Catalog } from '../engine/catalog.js';
import { compileRouteContract } from '../engine/contract.js';
import { RetryBudget } from '../engine/retry-budget.js';
import { systemClock, type Clock } from '../time/clock.js';
import { Engine } from '../engine/engine.js';
import type { EmbeddingRoute, Route, Rung } from '../engine/route.js';
import { withEmbeddingHeaders, type EmbeddingTarget } from '../providers/embedding-target.js';
import { createUpstreamDispatcher } from '../providers/openai/adapter.js';
import { createProvider, type Provider } from '../providers/registry.js';
import { FaultBook } from '../providers/fault-book.js';
import { withFaults } from '../providers/fault-injection.js';
import { withOverrides } from '../providers/request-overrides.js';
import type { Target } from '../providers/target.js';
import type { StateStore } from '../state/state-store.js';
import { KeyAccess } from '../keys/access.js';
import type { KeyStore } from '../keys/key-store.js';
import { openKeyStore } from '../keys/open-store.js';
import { createLogger, logRequest, type Logger } from '../telemetry/logger.js';
import { createApp } from './app.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { Drain, flushLogs } from './drain.js';
import { openRequestLog } from '../store/open-store.js';
import type { RequestLog } from '../store/request-log.js';
import { AdminKey } from './admin/admin-key.js';
import { faultTargetCheck } from './admin/fault-targets.js';
import { routeAffinity, rungBalance } from './rung-balance.js';
import { openStateStore } from './state-backend.js';
import { createCredentialPools } from './credential-pools.js';
import { watchCredentials, type CredentialWatchOptions } from './credential-watch.js';

export interface GatewayOptions {
  clock?: Clock;
  random?: () => number;
  /** The draw that decides whether an injected fault applies to a request (tests make it deterministic). */
  faultRandom?: () => number;
  logger?: Logger;
  state?: StateStore;
  /** Also called with every request record (after it is logged). */
  onRecord?: (record: RequestRecord) => void;
  /**
   * The config file this config was loaded from: it and the `${file:...}` secrets it references are
   * watched, and provider credentials are swapped when they change (no restart). Unset: no watching.
   */
  watch?: CredentialWatchOptions;
  /** The virtual key store (the CLI opens it first, to decide the bind address); default: `keys:`'s, or none (open). Closed with the gateway. */
  keys?: KeyStore;
}

export interface Gateway {
  /** Base URL for OpenAI clients, e.g. `http://127.0.0.1:4100/v1`. */
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  readonly logger: Logger;
  /** The request log, when `store:` configures one. */
  readonly requestLog: RequestLog | undefined;
  /** The virtual key store, when there is one. */
  readonly keys: KeyStore | undefined;
  /**
   * Stops the gateway: no new connections; requests and streams in flight get `graceMs` (default
   * 0) to finish, then are ended cleanly (`shutting_down`, in their API's error shape); the state
   * store is closed and the logs flushed. Later calls share the first.
   */
  close(options?: CloseOptions): Promise<void>;
}

export interface CloseOptions {
  /** How long requests in flight may take to finish (the CLI passes `server.shutdown_grace_ms`). */
  graceMs?: number;
}

/** Builds every provider, route and the engine from a Config, and starts the HTTP server. */
export async function startGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logging.level);
  const state = options.state ?? (await openStateStore(config, logger));
  const dispatcher: Dispatcher = createUpstreamDispatcher();

  // Per provider: its keys (round-robin, cooling), swapped in place when the watched files change.
  const pools = createCredentialPools(config, () => clock.now(), logger);
  const providers = new Map<string, Provider>();
  for (const p of Object.values(config.providers)) {
    providers.set(
      p.name,
      createProvider(
        {
          name: p.name,
          kind: p.type,
          baseUrl: p.baseUrl,
          apiKey: p.apiKey?.reveal(),
          credentials: pools.get(p.name),
          headers: p.headers,
          streamUpstream: p.streamUpstream,
          models: p.models,
          ...(p.apiVersion ? { apiVersion: p.apiVersion } : {}),
          ...(p.preset ? { preset: p.preset } : {}),
        },
        { dispatcher, now: () => clock.now() },
      ),
    );
  }
  // Game days: the config's fault rules, and those the admin API adds at run time.
  const faults = new FaultBook(config.faults, clock);
  const faultRandom = options.faultRandom ?? Math.random;
  const targets = new Map<string, Target>();
  const targetFor = (id: string): Target | undefined => {
    const cached = targets.get(id);
    if (cached) return cached;
    const parts = splitTargetId(id);
    if (!parts) return undefined;
    const { name, model } = parts;
    const provider = providers.get(name);
    if (!provider) return undefined;
    const overrides = config.providers[name]?.requestOverrides[model];
    const base = overrides ? withOverrides(provider.target(model), overrides) : provider.target(model);
    // Always wrapped: the fault book is read per call, so admin rules apply without a restart.
    const target = withFaults(base, faults, clock, faultRandom);
    targets.set(id, target);
    return target;
  };

  const embeddingTargets = new Map<string, EmbeddingTarget>();
  const embeddingTargetFor = (id: string): EmbeddingTarget | undefined => {
    const cached = embeddingTargets.get(id);
    if (cached) return cached;
    const parts = splitTargetId(id);
    if (!parts) return undefined;
    const { name, model } = parts;
    const target = providers.get(name)?.embeddingTarget?.(model);
    if (!target) return undefined;
    // Of the per-model request overrides only `headers` applies: the rest edit chat requests.
    const headers = config.providers[name]?.requestOverrides[model]?.headers;
    const wrapped = headers ? withEmbeddingHeaders(target, headers) : target;
    embeddingTargets.set(id, wrapped);
    return wrapped;
  };

  const routes = new Map<string, Route>();
  const embeddingRoutes = new Map<string, EmbeddingRoute>();
  for (const r of Object.values(config.routes)) {
    if (r.kind === 'embeddings') {
      embeddingRoutes.set(r.name, {
        name: r.name,
        ladder: r.ladder.flatMap((rung) =>
          rung.type === 'targets'
            ? [
                {
                  type: 'targets' as const,
                  targets: rung.targets.map((id) => embeddingTargetFor(id) as EmbeddingTarget),
                  timeouts: rung.timeouts,
                  retries: rung.retries,
                  origin: 'route' as const,
                  balance: rungBalance(rung, config.providers),
                },
              ]
            : [],
        ),
        deadlineMs: r.deadlineMs,
        policy: r.policy,
        defaultTimeouts: r.timeouts,
        defaultRetries: r.retries,
        equivalentModels: r.equivalentModels,
      });
      continue;
    }
    const ladder: Rung[] = r.ladder.map((rung) =>
      rung.type === 'static'
        ? { type: 'static', content: rung.content }
        : rung.type === 'cache'
          ? { type: 'cache', maxAgeMs: rung.maxAgeMs, maxEntries: rung.maxEntries }
          : {
            type: 'targets',
            targets: rung.targets.map((id) => targetFor(id) as Target),
            timeouts: rung.timeouts,
            retries: rung.retries,
            origin: 'route',
            balance: rungBalance(rung, config.providers),
            ...(rung.hedgeAfterMs !== undefined ? { hedgeAfterMs: rung.hedgeAfterMs } : {}),
          },
    );
    const route: Route = { name: r.name, ladder, deadlineMs: r.deadlineMs, policy: r.policy, defaultTimeouts: r.timeouts, defaultRetries: r.retries };
    const affinity = routeAffinity(r);
    if (affinity) route.affinity = affinity;
    route.continuation = r.continuation;
    if (r.maxExtraCost !== undefined) route.maxExtraCost = r.maxExtraCost;
    // The contract's regex and schema compiled when the config loaded, so this cannot throw.
    if (r.contract) route.contract = compileRouteContract(r.contract);
    routes.set(r.name, route);
  }
  const catalog = new Catalog(routes, targetFor, config.defaults, { routes: embeddingRoutes, targetFor: embeddingTargetFor });

  // The request log (`store:`): every request with every attempt, written off the request path.
  const requestLog = config.store && config.store.backend !== 'none'
    ? openRequestLog(config.store, clock, (error, lost) => logger.error({ err: errorText(error), lost }, 'request log write failed: records lost'))
    : undefined;
  const retryBudget = new RetryBudget(state, config.retryBudget);
  const configuredTargets = routeTargets(routes.values()).map((t) => t.id);
  const metrics = new GatewayMetrics({
    state,
    retryBudget,
    clock,
    targets: () => configuredTargets,
    routes: () => [...routes.keys(), ...embeddingRoutes.keys()],
    requestLog: () => requestLog?.stats(),
  });
  const onRecord = (record: RequestRecord): void => {
    logRequest(logger, record);
    metrics.observe(record);
    requestLog?.append(record);
    options.onRecord?.(record);
  };
  const breakers = new CircuitBreakers(state, config.breaker);
  const engineOptions = {
    state,
    clock,
    onRecord,
    breakers,
    retryBudget,
    ...(options.random ? { random: options.random } : {}),
  };
  const engine = new Engine(engineOptions);
  // Virtual keys: open until the store holds a key (or keys.required), then closed for good.
  const keyStore = options.keys ?? (config.keys ? await openKeyStore(config.keys, (message) => logger.warn(message)) : undefined);
  const access = keyStore ? new KeyAccess(keyStore, { required: config.keys?.required ?? false, state, clock }) : undefined;
  if (access && (await access.store.hasKeys())) access.requireKeys();
  const adminKey = config.server.adminKey ? new AdminKey(config.server.adminKey) : undefined;
  const checkTarget = faultTargetCheck(config);
  const startedAt = clock.now();
  const drain = new Drain();
  const server = createApp({
    engine,
    catalog,
    logger,
    metrics,
    startedAt,
    bodyLimitBytes: config.server.bodyLimitBytes,
    maxMessages: config.server.maxMessages,
    maxJsonDepth: config.server.maxJsonDepth,
    http: config.server,
    drain,
    graceOver: drain.graceOver,
    readiness: { state, drain, routes: routes.size + embeddingRoutes.size, startedAt, now: () => clock.now() },
    access,
    admin: {
      key: adminKey,
      faults,
      checkTarget,
      providers: config.providers,
      clock,
      logger,
      keys: keyStore ? { store: keyStore, known: { routes: Object.keys(config.routes), providers: Object.keys(config.providers) }, clock, logger } : undefined,
    },
    faultHeaders: { key: adminKey, checkTarget },
    onRejected: (requestId, route, status, reason, keyId) => {
      onRecord({ requestId, route, stream: false, startedAt: clock.now(), endedAt: clock.now(), status, degraded: false, attempts: [], rejected: reason, ...(keyId ? { keyId } : {}) });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    // A store built here from the config holds a Redis connection: do not leak it on a failed start.
    if (!options.state) await state.close().catch(() => undefined);
    throw error;
  });
  const port = (server.address() as AddressInfo).port;
  // Active health probes of open circuits (chat targets of the routes): only when configured.
  const prober = config.breakerProbes ? new HealthProber({ targets: routeTargets(routes.values()), breakers, clock, logger, config: config.breakerProbes }) : undefined;
  prober?.start();
  // Credential rotation without a restart: only when the config came from a file (started after listen, so a failed start leaves no watcher).
  const credentialWatch = options.watch ? watchCredentials(pools, config, logger, options.watch) : undefined;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;

  const shutdown = async (graceMs: number): Promise<void> => {
    credentialWatch?.close();
    await prober?.stop();
    logger.info({ grace_ms: graceMs, in_flight: drain.inFlightCount }, 'shutting down: draining requests in flight');
    const drained = await drain.shutdown(server, graceMs);
    logger.info({ in_flight: drained.inFlight, ended: drained.ended }, 'shut down');
    await dispatcher.destroy().catch(() => undefined);
    await requestLog?.close().catch(() => undefined);
    await state.close();
    await keyStore?.close().catch(() => undefined);
    await flushLogs(logger);
  };
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${port}/v1`,
    port,
    config,
    logger,
    requestLog,
    keys: keyStore,
    close(closeOptions: CloseOptions = {}) {
      closing ??= shutdown(closeOptions.graceMs ?? 0);
      return closing;
    },
  };
}

/** `provider/model` → its halves (the model may itself contain slashes), or undefined. */
function splitTargetId(id: string): { name: string; model: string } | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1) return undefined;
  return { name: id.slice(0, slash), model: id.slice(slash + 1) };
}

/** An error's message for a log line (connection strings never appear in driver messages we log). */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
