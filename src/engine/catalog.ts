import type { Target } from '../providers/target.js';
import type { ClientError } from './all-failed.js';
import type { LiveRung, Policy, Route, Rung, Timeouts } from './route.js';

export interface CatalogDefaults {
  timeouts: Timeouts;
  retries: number;
  deadlineMs: number;
  policy: Policy;
}

export type Resolution = { ok: true; route: Route } | { ok: false; error: ClientError };

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
  ) {}

  resolve(model: string, fallbackModels: readonly string[] = []): Resolution {
    let route = this.routes.get(model);
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

  /** Route names and every provider/model they reach. */
  listModels(): { id: string; ownedBy: string }[] {
    const out: { id: string; ownedBy: string }[] = [];
    const seen = new Set<string>();
    for (const route of this.routes.values()) {
      out.push({ id: route.name, ownedBy: 'understudy-route' });
      seen.add(route.name);
    }
    for (const route of this.routes.values()) {
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

  private rung(targets: Target[]): LiveRung {
    return { type: 'targets', targets, timeouts: this.defaults.timeouts, retries: this.defaults.retries, origin: 'request' };
  }
}

function badFallback(message: string, param = 'fallback_models'): ClientError {
  return { status: 400, message, type: 'invalid_request_error', code: 'invalid_fallback_models', param };
}
