import { Agent, type Dispatcher } from 'undici';
import type { ChatRequest } from '../../canonical/chat.js';
import type { EmbeddingRequest } from '../../canonical/embeddings.js';
import type { FailureDetails } from '../../canonical/failure.js';
import { capabilitiesFor, type CapabilityOverrides } from '../capabilities.js';
import { CredentialHeaders, CredentialPool, withCredential } from '../credentials.js';
import type { EmbedOptions, EmbeddingCall, EmbeddingTarget } from '../embedding-target.js';
import type { ProviderDeps, ProviderSpec } from '../registry.js';
import type { Capabilities, CallOptions, Target, UpstreamCall, UpstreamEvent } from '../target.js';
import { callUpstream, callUpstreamJson, type UpstreamBody } from '../upstream-http.js';
import { OPENAI_EMBEDDING_CAPABILITIES, parseOpenAIEmbeddings, toOpenAIEmbeddingsBody } from './embeddings.js';
import { classifyHttpError } from './errors.js';
import type { StreamNormaliserOptions } from './normalise.js';
import { COMPAT_PRESET_INFO } from './presets.js';
import { toOpenAIBody } from './request.js';
import { parseOpenAIResponse } from './response.js';
import { parseOpenAIStream } from './stream.js';

/**
 * How an OpenAI-wire service is addressed and authenticated. OpenAI's own (`openAIWire`) by
 * default; Azure OpenAI supplies its own and shares everything else.
 */
export interface OpenAIWire {
  /** The chat-completions URL for one model (Azure: the model is the deployment in the path). */
  url(model: string): URL;
  /** The embeddings URL for one model (Azure: the deployment's `/embeddings`). */
  embeddingsUrl(model: string): URL;
  /** The headers that carry the key. */
  auth(apiKey: string): Record<string, string>;
  /** Response headers passed on to the engine (rate-limit hints, request ids). */
  forwardedHeaders: readonly string[];
  /** Classifies an HTTP error response (status ≥ 400). */
  classifyHttpError(status: number, bodyText: string, retryAfterMs: number | undefined, secrets: readonly string[]): FailureDetails;
}

export interface OpenAIProviderOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  /** A credential pool (round-robin, cooling, rotation); a pool of `apiKey` when unset. */
  credentials?: CredentialPool;
  headers?: Record<string, string>;
  /** Stream from upstream even for non-streaming clients, so first-token/stall watchdogs protect them. */
  streamUpstream: boolean;
  /** Per-model capability overrides. */
  models?: Record<string, CapabilityOverrides>;
  dispatcher: Dispatcher;
  now?: () => number;
  /** Capability defaults before known model limits and overrides; OpenAI's when unset. */
  defaults?: Capabilities;
  /** Addressing, auth and error classification; `openAIWire(baseUrl)` when unset. */
  wire?: OpenAIWire;
}

/** Response headers OpenAI sends that the engine uses (retry hints, headroom) or logs (request id). */
export const OPENAI_FORWARDED_HEADERS: readonly string[] = [
  'x-request-id',
  'retry-after',
  'retry-after-ms',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
];

/** OpenAI-wire models: tools, structured output and images are the norm; prefill is not supported. */
export const OPENAI_DEFAULT_CAPABILITIES: Capabilities = { tools: true, jsonSchema: true, vision: true, prefill: false };

/** OpenAI and OpenAI-compatible servers: `${baseUrl}/chat/completions`, `Authorization: Bearer`. */
export function openAIWire(baseUrl: string): OpenAIWire {
  const url = new URL(baseUrl.replace(/\/+$/, '') + '/chat/completions');
  const embeddingsUrl = new URL(baseUrl.replace(/\/+$/, '') + '/embeddings');
  return {
    url: () => url,
    embeddingsUrl: () => embeddingsUrl,
    auth: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
    forwardedHeaders: OPENAI_FORWARDED_HEADERS,
    classifyHttpError,
  };
}

/**
 * An `openai` or `openai-compatible` provider from its spec. A preset supplies the base URL when
 * the spec has none, and its capability defaults.
 */
export function createOpenAIProvider(spec: ProviderSpec, deps: ProviderDeps): OpenAIProvider {
  const preset = spec.preset ? COMPAT_PRESET_INFO[spec.preset] : undefined;
  const baseUrl = spec.baseUrl || preset?.baseUrl;
  if (!baseUrl) throw new Error(`provider '${spec.name}' has no base_url and no preset to take one from`);
  return new OpenAIProvider({
    name: spec.name,
    baseUrl,
    apiKey: spec.apiKey,
    ...(spec.credentials ? { credentials: spec.credentials } : {}),
    headers: spec.headers,
    streamUpstream: spec.streamUpstream,
    models: spec.models,
    dispatcher: deps.dispatcher,
    now: deps.now,
    defaults: { ...OPENAI_DEFAULT_CAPABILITIES, ...preset?.capabilities },
  });
}

/** Shared keep-alive connection pool for all OpenAI-wire providers. */
export function createUpstreamDispatcher(): Dispatcher {
  return new Agent({
    keepAliveTimeout: 30_000,
    connections: 256,
    pipelining: 1,
    // The engine's watchdogs own every timeout (undici's timers are too coarse above 1 s).
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: 10_000 },
  });
}

/** One OpenAI-wire provider; `target(model)` gives a Target for one of its models. */
export class OpenAIProvider {
  private readonly wire: OpenAIWire;
  private readonly headers: CredentialHeaders;
  private readonly pool: CredentialPool;
  private readonly now: () => number;

  constructor(private readonly options: OpenAIProviderOptions) {
    this.wire = options.wire ?? openAIWire(options.baseUrl);
    this.now = options.now ?? Date.now;
    this.headers = new CredentialHeaders({ 'content-type': 'application/json', ...(options.headers ?? {}) }, this.wire.auth);
    this.pool = options.credentials ?? CredentialPool.of(options.apiKey, this.now);
  }

  target(model: string): Target {
    const provider = this.options.name;
    const url = this.wire.url(model);
    return {
      id: `${provider}/${model}`,
      provider,
      model,
      capabilities: capabilitiesFor(model, this.options.defaults ?? OPENAI_DEFAULT_CAPABILITIES, this.options.models?.[model]),
      streamsUpstream: (stream) => stream || this.options.streamUpstream,
      call: (request, options) => this.call(request, model, url, options),
    };
  }

  /** The same provider's `POST …/embeddings` for one model. */
  embeddingTarget(model: string): EmbeddingTarget {
    const provider = this.options.name;
    const url = this.wire.embeddingsUrl(model);
    return {
      id: `${provider}/${model}`,
      provider,
      model,
      capabilities: OPENAI_EMBEDDING_CAPABILITIES,
      embed: (request, options) => this.embed(request, model, url, options),
    };
  }

  private async embed(request: EmbeddingRequest, model: string, url: URL, options: EmbedOptions): Promise<EmbeddingCall> {
    const forwarded = this.wire.forwardedHeaders;
    const body = JSON.stringify(toOpenAIEmbeddingsBody(request, model));
    const out = await withCredential(this.pool, (credential) => {
      const secrets = this.pool.secrets;
      return callUpstreamJson({
        url,
        headers: this.headers.for(credential),
        extraHeaders: options.headers,
        body,
        signal: options.signal,
        dispatcher: this.options.dispatcher,
        now: this.now,
        secrets,
        classifyHttpError: this.wire.classifyHttpError,
        forwardHeader: (name) => forwarded.includes(name),
        parse: (text) => parseOpenAIEmbeddings(text, request, model, secrets),
      });
    });
    return { status: out.status, headers: out.headers, response: out.result };
  }

  private call(request: ChatRequest, model: string, url: URL, options: CallOptions): Promise<UpstreamCall> {
    const upstreamStream = options.stream || this.options.streamUpstream;
    const forwarded = this.wire.forwardedHeaders;
    const body = JSON.stringify(toOpenAIBody(request, model, upstreamStream));
    return withCredential(this.pool, (credential) => {
      // Read after the key was picked: every key the pool has held, this one included.
      const secrets = this.pool.secrets;
      return callUpstream({
        url,
        headers: this.headers.for(credential),
        body,
        stream: upstreamStream,
        signal: options.signal,
        extraHeaders: options.headers,
        dispatcher: this.options.dispatcher,
        now: this.now,
        secrets,
        classifyHttpError: this.wire.classifyHttpError,
        forwardHeader: (name) => forwarded.includes(name),
        parse: (response, isSse, headers) =>
          isSse
            ? parseOpenAIStream(response, secrets, {
                fallbackIdentity: this.fallbackIdentity(model, headers),
                separateUsage: options.stream && request.stream_options?.include_usage === true,
              })
            : responseEvent(response),
      });
    });
  }

  /** The identity of a stream whose chunks carry none: the upstream request id, the model, now. */
  private fallbackIdentity(model: string, headers: Record<string, string>): StreamNormaliserOptions['fallbackIdentity'] {
    const now = this.now();
    const requestId = headers['x-request-id'] ?? headers['apim-request-id'] ?? now.toString(36);
    return { id: `chatcmpl-${requestId}`, created: Math.floor(now / 1000), model };
  }
}

async function* responseEvent(body: UpstreamBody): AsyncGenerator<UpstreamEvent> {
  yield { type: 'response', response: parseOpenAIResponse(await body.text()) };
}
