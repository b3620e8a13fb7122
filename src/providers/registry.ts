import type { Dispatcher } from 'undici';
import { OpenAIProvider } from './openai/adapter.js';
import type { Target } from './target.js';

/** The wire formats an adapter exists for. A closed union: adding one is a new case below. */
export type ProviderKind = 'openai' | 'openai-compatible';

export interface ProviderSpec {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  streamUpstream: boolean;
}

export interface Provider {
  target(model: string): Target;
}

export interface ProviderDeps {
  dispatcher: Dispatcher;
  now: () => number;
}

/** Builds the adapter for a provider. One map from kind to implementation, nothing else. */
export function createProvider(spec: ProviderSpec, deps: ProviderDeps): Provider {
  switch (spec.kind) {
    case 'openai':
    case 'openai-compatible': {
      const options = {
        name: spec.name,
        baseUrl: spec.baseUrl,
        headers: spec.headers,
        streamUpstream: spec.streamUpstream,
        dispatcher: deps.dispatcher,
        now: deps.now,
      };
      return new OpenAIProvider(spec.apiKey ? { ...options, apiKey: spec.apiKey } : options);
    }
    default:
      return assertNever(spec.kind);
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown provider kind: ${String(value)}`);
}
