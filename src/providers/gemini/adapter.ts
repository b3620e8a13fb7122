import type { ChatRequest } from '../../canonical/chat.js';
import type { EmbeddingRequest } from '../../canonical/embeddings.js';
import { capabilitiesFor } from '../capabilities.js';
import { CredentialHeaders, CredentialPool, withCredential } from '../credentials.js';
import type { EmbedOptions, EmbeddingCall, EmbeddingTarget } from '../embedding-target.js';
import type { Provider, ProviderDeps, ProviderSpec } from '../registry.js';
import type { CallOptions, Capabilities, Target, UpstreamCall, UpstreamEvent } from '../target.js';
import { callUpstream, callUpstreamJson, type UpstreamBody } from '../upstream-http.js';
import { GEMINI_EMBEDDING_CAPABILITIES, parseGeminiEmbeddings, toGeminiEmbedRequest } from './embeddings.js';
import { classifyHttpError } from './errors.js';
import { toGeminiRequest } from './request.js';
import { parseGeminiResponse, type ResponseContext } from './response.js';
import { parseGeminiStream } from './stream.js';

/** Gemini models take tools, structured output and images; a trailing model turn is not continued as a prefix. */
export const GEMINI_DEFAULT_CAPABILITIES: Capabilities = { tools: true, jsonSchema: true, vision: true, prefill: false };

const FORWARDED_HEADERS = ['retry-after', 'x-request-id', 'x-goog-request-id'];

/**
 * A Gemini API (generativelanguage) provider: `POST {base_url}/models/{model}:generateContent`,
 * or `:streamGenerateContent?alt=sse` when streaming upstream. The key travels in the
 * `x-goog-api-key` header, never in the URL, so it never reaches a log line.
 */
export function createGeminiProvider(spec: ProviderSpec, deps: ProviderDeps): Provider {
  const base = spec.baseUrl.replace(/\/+$/, '');
  const headers = new CredentialHeaders({ 'content-type': 'application/json', ...spec.headers }, (key) => ({ 'x-goog-api-key': key }));
  const pool = spec.credentials ?? CredentialPool.of(spec.apiKey, deps.now);

  async function call(request: ChatRequest, model: string, options: CallOptions): Promise<UpstreamCall> {
    const upstreamStream = options.stream || spec.streamUpstream;
    const { body, droppedParams } = toGeminiRequest(request, model, {});
    const ctx: ResponseContext = { model, created: Math.floor(deps.now() / 1000) };
    const url = `${base}/${modelPath(model)}:${upstreamStream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
    const text = JSON.stringify(body);
    const out = await withCredential(pool, (credential) => {
      const secrets = pool.secrets;
      return callUpstream({
        url,
        headers: headers.for(credential),
        body: text,
        stream: upstreamStream,
        signal: options.signal,
        extraHeaders: options.headers,
        dispatcher: deps.dispatcher,
        now: deps.now,
        secrets,
        classifyHttpError,
        forwardHeader: (name) => FORWARDED_HEADERS.includes(name),
        parse: (response, isSse) => (isSse ? parseGeminiStream(response, ctx, secrets) : responseEvent(response, ctx, secrets)),
      });
    });
    if (droppedParams.length > 0) out.droppedParams = droppedParams;
    return out;
  }

  /** `:embedContent` for one text, `:batchEmbedContents` for several. */
  async function embed(request: EmbeddingRequest, model: string, options: EmbedOptions): Promise<EmbeddingCall> {
    const translated = toGeminiEmbedRequest(request, model);
    const url = `${base}/${modelPath(model)}:${translated.method}`;
    const body = JSON.stringify(translated.body);
    const out = await withCredential(pool, (credential) => {
      const secrets = pool.secrets;
      return callUpstreamJson({
        url,
        headers: headers.for(credential),
        extraHeaders: options.headers,
        body,
        signal: options.signal,
        dispatcher: deps.dispatcher,
        now: deps.now,
        secrets,
        classifyHttpError,
        forwardHeader: (name) => FORWARDED_HEADERS.includes(name),
        parse: (text) => parseGeminiEmbeddings(text, request, model, secrets),
      });
    });
    const call: EmbeddingCall = { status: out.status, headers: out.headers, response: out.result };
    if (translated.droppedParams.length > 0) call.droppedParams = translated.droppedParams;
    return call;
  }

  return {
    embeddingTarget(model: string): EmbeddingTarget {
      return {
        id: `${spec.name}/${model}`,
        provider: spec.name,
        model,
        capabilities: GEMINI_EMBEDDING_CAPABILITIES,
        embed: (request, options) => embed(request, model, options),
      };
    },
    target(model: string): Target {
      return {
        id: `${spec.name}/${model}`,
        provider: spec.name,
        model,
        capabilities: capabilitiesFor(model, GEMINI_DEFAULT_CAPABILITIES, spec.models[model]),
        streamsUpstream: (stream) => stream || spec.streamUpstream,
        call: (request, options) => call(request, model, options),
      };
    },
  };
}

/** `gemini-2.0-flash` → `models/gemini-2.0-flash`; a full resource name (`tunedModels/x`, `models/y`) is kept. */
function modelPath(model: string): string {
  const path = model.includes('/') ? model : `models/${model}`;
  return path.split('/').map(encodeURIComponent).join('/');
}

async function* responseEvent(body: UpstreamBody, ctx: ResponseContext, secrets: readonly string[]): AsyncGenerator<UpstreamEvent> {
  yield { type: 'response', response: parseGeminiResponse(await body.text(), ctx, secrets) };
}
