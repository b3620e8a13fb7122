import type { Dispatcher } from 'undici';
import { createAnthropicProvider } from './anthropic/adapter.js';
import { createAzureProvider } from './azure/adapter.js';
import { createGeminiProvider } from './gemini/adapter.js';
import { createOpenAIProvider } from './openai/adapter.js';
import type { CapabilityOverrides } from './capabilities.js';
import type { CredentialPool } from './credentials.js';
import type { EmbeddingTarget } from './embedding-target.js';
import type { Target } from './target.js';

/** The wire formats an adapter exists for. A closed union: adding one is a new case below. */
export type ProviderKind = 'openai' | 'openai-compatible' | 'azure-openai' | 'anthropic' | 'gemini';

/** Where each wire format lives when config names no base_url (azure-openai always needs one). */
export const DEFAULT_BASE_URLS: Partial<Record<ProviderKind, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com/v1beta',
};

/** OpenAI-compatible servers whose quirks (or base URL) Understudy knows. */
export const COMPAT_PRESETS = ['mistral', 'deepseek', 'xai', 'groq', 'together', 'fireworks', 'openrouter', 'ollama', 'vllm'] as const;
export type CompatPreset = (typeof COMPAT_PRESETS)[number];

export interface ProviderSpec {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  /** The one key of a provider without a pool (`credentials` wins when both are given). */
  apiKey: string | undefined;
  /** The provider's credential pool (round-robin, cooling, rotation); a pool of `apiKey` when unset. */
  credentials?: CredentialPool;
  headers: Record<string, string>;
  streamUpstream: boolean;
  /** Per-model capability overrides from config. */
  models: Record<string, CapabilityOverrides>;
  /** `api-version` (Azure OpenAI) or `anthropic-version` (Anthropic); the adapter's default when unset. */
  apiVersion?: string;
  /** An OpenAI-compatible server's known quirks (`openai-compatible` only). */
  preset?: CompatPreset;
}

export interface Provider {
  target(model: string): Target;
  /** The provider's embeddings endpoint for one model; absent when the wire format has none (Anthropic). */
  embeddingTarget?(model: string): EmbeddingTarget;
}

export interface ProviderDeps {
  dispatcher: Dispatcher;
  now: () => number;
}

/** Whether a wire format has an embeddings API (and so its providers can serve embeddings routes). */
export function hasEmbeddings(kind: ProviderKind): boolean {
  switch (kind) {
    case 'openai':
    case 'openai-compatible':
    case 'azure-openai':
    case 'gemini':
      return true;
    case 'anthropic':
      return false;
    default:
      return assertNever(kind);
  }
}

/** Builds the adapter for a provider. One map from kind to implementation, nothing else. */
export function createProvider(spec: ProviderSpec, deps: ProviderDeps): Provider {
  switch (spec.kind) {
    case 'openai':
    case 'openai-compatible':
      return createOpenAIProvider(spec, deps);
    case 'azure-openai':
      return createAzureProvider(spec, deps);
    case 'anthropic':
      return createAnthropicProvider(spec, deps);
    case 'gemini':
      return createGeminiProvider(spec, deps);
    default:
      return assertNever(spec.kind);
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown provider kind: ${String(value)}`);
}
