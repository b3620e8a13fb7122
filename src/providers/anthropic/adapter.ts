import type { ChatRequest } from '../../canonical/chat.js';
import { nativeRequest } from '../../canonical/native.js';
import { capabilitiesFor } from '../capabilities.js';
import { CredentialHeaders, CredentialPool, withCredential } from '../credentials.js';
import type { Provider, ProviderDeps, ProviderSpec } from '../registry.js';
import type { Capabilities, CallOptions, Target, UpstreamCall, UpstreamEvent } from '../target.js';
import { callUpstream, type UpstreamBody } from '../upstream-http.js';
import { classifyHttpError } from './errors.js';
import { toAnthropicRequest } from './request.js';
import { parseAnthropicResponse, type ResponseContext } from './response.js';
import { parseAnthropicStream } from './stream.js';

/**
 * Anthropic models: tools, images and assistant prefill natively. `jsonSchema: true` because
 * structured output is enforced through a forced tool whose input_schema is the schema (tools.ts).
 */
export const ANTHROPIC_DEFAULT_CAPABILITIES: Capabilities = { tools: true, jsonSchema: true, vision: true, prefill: true };

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_DEFAULT_VERSION = '2023-06-01';

const FORWARDED_HEADERS = ['request-id', 'retry-after'];
const FORWARDED_PREFIX = 'anthropic-ratelimit-';

/** The Messages endpoint: `base_url` is given without `/v1`; one that ends in `/v1` is not doubled. */
export function messagesUrl(baseUrl: string): URL {
  const base = (baseUrl || ANTHROPIC_DEFAULT_BASE_URL).replace(/\/+$/, '');
  return new URL(base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`);
}

/** One Anthropic provider (account + endpoint); `target(model)` gives a Target for one of its models. */
export function createAnthropicProvider(spec: ProviderSpec, deps: ProviderDeps): Provider {
  const url = messagesUrl(spec.baseUrl);
  const headers = new CredentialHeaders(
    { 'content-type': 'application/json', 'anthropic-version': spec.apiVersion ?? ANTHROPIC_DEFAULT_VERSION, ...spec.headers },
    (key) => ({ 'x-api-key': key }),
  );
  const pool = spec.credentials ?? CredentialPool.of(spec.apiKey, deps.now);

  async function call(request: ChatRequest, model: string, capabilities: Capabilities, options: CallOptions): Promise<UpstreamCall> {
    const upstreamStream = options.stream || spec.streamUpstream;
    const native = nativeRequest(request);
    // Throws `unsupported_parameter` before any I/O when the request cannot be carried.
    const translated =
      native?.format === 'anthropic'
        ? { body: passThroughBody(native.body, model, upstreamStream), droppedParams: [], jsonTool: undefined }
        : toAnthropicRequest(request, model, { stream: upstreamStream, maxOutputTokens: capabilities.maxOutputTokens });
    const context: ResponseContext = {
      created: Math.floor(deps.now() / 1000),
      jsonTool: translated.jsonTool,
      passThrough: native ? (options.stream ? 'stream' : 'complete') : undefined,
    };
    const body = JSON.stringify(translated.body);
    const out = await withCredential(pool, (credential) => {
      const secrets = pool.secrets;
      return callUpstream({
        url,
        headers: headers.for(credential),
        body,
        stream: upstreamStream,
        signal: options.signal,
        extraHeaders: options.headers,
        dispatcher: deps.dispatcher,
        now: deps.now,
        secrets,
        classifyHttpError,
        forwardHeader: (name) => FORWARDED_HEADERS.includes(name) || name.startsWith(FORWARDED_PREFIX),
        parse: (response, isSse) => (isSse ? parseAnthropicStream(response, context, secrets) : responseEvent(response, context)),
      });
    });
    if (translated.droppedParams.length > 0) out.droppedParams = translated.droppedParams;
    return out;
  }

  return {
    target(model: string): Target {
      const capabilities = capabilitiesFor(model, ANTHROPIC_DEFAULT_CAPABILITIES, spec.models[model]);
      return {
        id: `${spec.name}/${model}`,
        provider: spec.name,
        model,
        capabilities,
        streamsUpstream: (stream) => stream || spec.streamUpstream,
        call: (request, options) => call(request, model, capabilities, options),
      };
    },
  };
}

/**
 * Same-format pass-through: the client's own Messages body, with the target's model and our
 * streaming choice; only Understudy's own fields are removed. Everything the canonical shape
 * cannot hold (cache_control, signed thinking, server tools, top_k) reaches the upstream as sent.
 */
function passThroughBody(body: Record<string, unknown>, model: string, stream: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body, model, stream };
  delete out.fallback_models;
  return out;
}

async function* responseEvent(body: UpstreamBody, context: ResponseContext): AsyncGenerator<UpstreamEvent> {
  yield { type: 'response', response: parseAnthropicResponse(await body.text(), context) };
}
