import type { EmbeddingTarget } from '../providers/embedding-target.js';
import type { Target } from '../providers/target.js';
import type { ClientError } from './all-failed.js';
import type { EmbeddingRoute, LiveRung, Policy, Route, Rung, Timeouts } from './route.js';
import { sameVectorSpace } from './vector-space.js';

export interface CatalogDefaults {
  timeouts: Timeouts;
  retries: number;
  deadlineMs: number;
  policy: Policy;
}

export type Resolution = { ok: true; route: Route } | { ok: false; error: ClientError };
export type EmbeddingResolution = { ok: true; route: EmbeddingRoute } | { ok: false; error: ClientError };

/** Embeddings routes and targets (`kind: embeddings`): resolved apart from chat, so the two never mix. */
export interface EmbeddingEntries {
  routes: ReadonlyMap<string, EmbeddingRoute>;
  /** A provider/model whose provider has an embeddings API. */
  targetFor: (id: string) => EmbeddingTarget | undefined;
}

const NO_EMBEDDINGS: EmbeddingEntries = { routes: new Map(), targetFor: () => undefined };

export const MAX_FALLBACK_MODELS = 10;

/**
 * What a client's `model` can name: a configured route, or a direct `provider/model`.
 * A request's `fallback_models` extend the ladder after its live rungs and before its
 * degradation rungs.
 */
export class Catalog {
  constructor(
    private readonly routes: ReadonlyMap<string, Route>,
    private readonly targetFor: (id: string) => Target | undefined,
    private readonly defaults: CatalogDefaults,
    private readonly embeddings: EmbeddingEntries = NO_EMBEDDINGS,
  ) {}

  resolve(model: string, fallbackModels: readonly string[] = []): Resolution {
    let route = this.routes.get(model);
    if (!route && this.embeddings.routes.has(model)) {
      return { ok: false, error: wrongKind(`'${model}' is an embeddings route; send it to POST /v1/embeddings.`) };
    }
    if (!route) {
      const target = this.targetFor(model);
      if (!target) {
        return {
          ok: false,
          error: {
            status: 404,
            message: `The model '${model}' is not a route or a configured provider/model. GET /v1/models lists what this gateway serves.`,
            type: 'invalid_request_error',
            code: 'model_not_found',
            param: 'model',
          },
        };
      }
      route = { name: model, ladder: [this.rung([target])], deadlineMs: this.defaults.deadlineMs, policy: this.defaults.policy, defaultTimeouts: this.defaults.timeouts, defaultRetries: this.defaults.retries };
    }
    if (fallbackModels.length === 0) return { ok: true, route };
    if (fallbackModels.length > MAX_FALLBACK_MODELS) {
      return { ok: false, error: badFallback(`at most ${MAX_FALLBACK_MODELS} fallback_models are allowed`) };
    }
    const extra: Rung[] = [];
    for (const [i, id] of fallbackModels.entries()) {
      const target = this.targetFor(id);
      if (!target) {
        return { ok: false, error: badFallback(`fallback_models[${i}] '${id}' is not a configured provider/model`, `fallback_models[${i}]`) };
      }
      extra.push({ ...this.rung([target]), timeouts: route.defaultTimeouts, retries: route.defaultRetries, origin: 'request' });
    }
    let lastLive = -1;
    route.ladder.forEach((rung, i) => {
      if (rung.type === 'targets') lastLive = i;
    });
    const ladder = [...route.ladder.slice(0, lastLive + 1), ...extra, ...route.ladder.slice(lastLive + 1)];
    return { ok: true, route: { ...route, ladder } };
  }

  /**
   * What an embeddings request's `model` names: an embeddings route, or a direct provider/model
   * with an embeddings API. Every `fallback_models` entry must serve the same model as the route
   * (or one the route declares equivalent): anything else would mix vector spaces, so it is a 400.
   */
  resolveEmbeddings(model: string, fallbackModels: readonly string[] = []): EmbeddingResolution {
    let route = this.embeddings.routes.get(model);
    if (!route && this.routes.has(model)) {
      return {
        ok: false,
        error: wrongKind(`'${model}' is a chat route. Embeddings need a route with kind: embeddings, or a direct provider/model.`),
      };
    }
    if (!route) {
      const target = this.embeddings.targetFor(model);
      if (!target) {
        const message = `The model '${model}' is not an embeddings route or a configured provider/model with an embeddings API. GET /v1/models lists what this gateway serves.`;
        return { ok: false, error: { status: 404, message, type: 'invalid_request_error', code: 'model_not_found', param: 'model' } };
      }
      route = { ...this.routeDefaults(model), ladder: [this.rung([target])], equivalentModels: [] };
    }
    if (fallbackModels.length === 0) return { ok: true, route };
    if (fallbackModels.length > MAX_FALLBACK_MODELS) {
      return { ok: false, error: badFallback(`at most ${MAX_FALLBACK_MODELS} fallback_models are allowed`) };
    }
    const served = route.ladder[0]?.targets[0]?.model ?? '';
    const extra: LiveRung<EmbeddingTarget>[] = [];
    for (const [i, id] of fallbackModels.entries()) {
      const param = `fallback_models[${i}]`;
      const target = this.embeddings.targetFor(id);
      if (!target) return { ok: false, error: badFallback(`${param} '${id}' is not a configured provider/model with an embeddings API`, param) };
      if (!sameVectorSpace(target.model, served, route.equivalentModels)) {
        const message = `${param} '${id}' serves '${target.model}', but '${model}' serves '${served}'. Vectors of different models live in different spaces, so an embeddings fallback must be the same model (or one the route declares in equivalent_models).`;
        return { ok: false, error: badFallback(message, param) };
      }
      extra.push({ ...this.rung([target]), timeouts: route.defaultTimeouts, retries: route.defaultRetries });
    }
    return { ok: true, route: { ...route, ladder: [...route.ladder, ...extra] } };
  }

  /** Whether `name` is a configured route (chat or embeddings), as opposed to a direct provider/model. */
  hasRoute(name: string): boolean {
    return this.routes.has(name) || this.embeddings.routes.has(name);
  }

  /** Route names and every provider/model they reach. */
  listModels(): { id: string; ownedBy: string }[] {
    const out: { id: string; ownedBy: string }[] = [];
    const seen = new Set<string>();
    for (const route of [...this.routes.values(), ...this.embeddings.routes.values()]) {
      out.push({ id: route.name, ownedBy: 'understudy-route' });
      seen.add(route.name);
    }
    for (const route of [...this.routes.values(), ...this.embeddings.routes.values()]) {
      for (const rung of route.ladder) {
        if (rung.type !== 'targets') continue;
        for (const target of rung.targets) {
          if (seen.has(target.id)) continue;
          seen.add(target.id);
          out.push({ id: target.id, ownedBy: target.provider });
        }
      }
    }
    return out;
  }

  private rung<T extends Target | EmbeddingTarget>(targets: T[]): LiveRung<T> {
    return { type: 'targets', targets, timeouts: this.defaults.timeouts, retries: this.defaults.retries, origin: 'request' };
  }

  private routeDefaults(name: string): Omit<Route, 'ladder'> {
    return { name, deadlineMs: this.defaults.deadlineMs, policy: this.defaults.policy, defaultTimeouts: this.defaults.timeouts, defaultRetries: this.defaults.retries };
  }
}

function badFallback(message: string, param = 'fallback_models'): ClientError {
  return { status: 400, message, type: 'invalid_request_error', code: 'invalid_fallback_models', param };
}

/** A chat request to an embeddings route, or the other way round. */
function wrongKind(message: string): ClientError {
  return { status: 400, message, type: 'invalid_request_error', code: 'wrong_route_kind', param: 'model' };
}
