import type { Provider, ProviderDeps, ProviderSpec } from '../registry.js';
import { OPENAI_DEFAULT_CAPABILITIES, OPENAI_FORWARDED_HEADERS, OpenAIProvider, type OpenAIWire } from '../openai/adapter.js';
import { classifyAzureHttpError } from './errors.js';

/** The GA API version used when the provider does not set `api_version`. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

/** OpenAI's forwarded headers plus Azure's request id. */
export const AZURE_FORWARDED_HEADERS: readonly string[] = [...OPENAI_FORWARDED_HEADERS, 'apim-request-id'];

/**
 * Azure OpenAI's addressing: `${base}/openai/deployments/${deployment}/chat/completions?api-version=…`
 * (embeddings: `…/embeddings?api-version=…`) with `base` = `https://{resource}.openai.azure.com` (a trailing `/openai` is tolerated) and the
 * target's model name as the deployment; the key goes in `api-key`. An Entra token can be given
 * instead as an `authorization` header in the provider's headers.
 */
export function azureWire(baseUrl: string, apiVersion: string): OpenAIWire {
  const root = baseUrl.replace(/\/+$/, '').replace(/\/openai$/, '');
  return {
    url: (deployment) => deploymentUrl(root, deployment, 'chat/completions', apiVersion),
    embeddingsUrl: (deployment) => deploymentUrl(root, deployment, 'embeddings', apiVersion),
    auth: (apiKey) => ({ 'api-key': apiKey }),
    forwardedHeaders: AZURE_FORWARDED_HEADERS,
    classifyHttpError: classifyAzureHttpError,
  };
}

function deploymentUrl(root: string, deployment: string, operation: string, apiVersion: string): URL {
  const url = new URL(`${root}/openai/deployments/${encodeURIComponent(deployment)}/${operation}`);
  url.searchParams.set('api-version', apiVersion);
  return url;
}

/**
 * An `azure-openai` provider: the OpenAI adapter with Azure's addressing, auth and error
 * classification. Streams go through the shared normaliser, which drops Azure's filter
 * annotation chunks and keeps a filter verdict (`finish_reason: content_filter`).
 */
export function createAzureProvider(spec: ProviderSpec, deps: ProviderDeps): Provider {
  if (!spec.baseUrl) throw new Error(`azure-openai provider '${spec.name}' needs a base_url (https://{resource}.openai.azure.com)`);
  return new OpenAIProvider({
    name: spec.name,
    baseUrl: spec.baseUrl,
    apiKey: spec.apiKey,
    ...(spec.credentials ? { credentials: spec.credentials } : {}),
    headers: spec.headers,
    streamUpstream: spec.streamUpstream,
    models: spec.models,
    dispatcher: deps.dispatcher,
    now: deps.now,
    defaults: OPENAI_DEFAULT_CAPABILITIES,
    wire: azureWire(spec.baseUrl, spec.apiVersion ?? AZURE_DEFAULT_API_VERSION),
  });
}
