import { request as undiciRequest, type Dispatcher } from 'undici';
import type { ChatRequest } from '../../canonical/chat.js';
import { UpstreamFailure, isUpstreamFailure } from '../../canonical/failure.js';
import { capabilitiesFor } from '../capabilities.js';
import { classifyTransportError } from '../openai/errors.js';
import type { Provider, ProviderDeps, ProviderSpec } from '../registry.js';
import { parseRetryAfter } from '../retry-after.js';
import type { Capabilities, CallOptions, Target, UpstreamCall, UpstreamEvent } from '../target.js';
import { classifyHttpError } from './errors.js';
import { toAnthropicRequest } from './request.js';
import { parseAnthropicResponse, type ResponseContext } from './response.js';
import { parseAnthropicStream } from './stream.js';

/** Anthropic models: tools, images and assistant prefill natively; structured output emulated with a forced tool. */
/** `jsonSchema: true`: structured output is enforced through a forced tool whose input_schema is the schema (see tools.ts). */
export const ANTHROPIC_DEFAULT_CAPABILITIES: Capabilities = { tools: true, jsonSchema: true, vision: true, prefill: true };

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_DEFAULT_VERSION = '2023-06-01';

const MAX_ERROR_BODY = 64 * 1024;
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
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': spec.apiVersion ?? ANTHROPIC_DEFAULT_VERSION,
    ...spec.headers,
  };
  if (spec.apiKey) headers['x-api-key'] = spec.apiKey;
  const secrets = spec.apiKey ? [spec.apiKey] : [];

  const failureFrom = (error: unknown, signal: AbortSignal, bodyStarted: boolean): UpstreamFailure => {
    if (signal.aborted && isUpstreamFailure(signal.reason)) return signal.reason;
    if (isUpstreamFailure(error)) return error;
    return new UpstreamFailure(classifyTransportError(error, bodyStarted, secrets));
  };

  async function* events(
    body: Dispatcher.ResponseData['body'],
    isSse: boolean,
    context: ResponseContext,
    signal: AbortSignal,
  ): AsyncGenerator<UpstreamEvent> {
    let complete = false;
    try {
      if (isSse) yield* parseAnthropicStream(body, context, secrets);
      else yield { type: 'response', response: parseAnthropicResponse(await body.text(), context) };
      complete = true;
    } catch (error) {
      throw failureFrom(error, signal, true);
    } finally {
      // A complete answer: read what is left so the connection is reused. Anything else: close
      // it, the upstream must stop generating.
      if (!body.destroyed) {
        if (complete) body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        else body.destroy();
      }
    }
  }

  async function call(request: ChatRequest, model: string, capabilities: Capabilities, options: CallOptions): Promise<UpstreamCall> {
    const upstreamStream = options.stream || spec.streamUpstream;
    // Throws `unsupported_parameter` before any I/O when the request cannot be carried.
    const translated = toAnthropicRequest(request, model, { stream: upstreamStream, maxOutputTokens: capabilities.maxOutputTokens });
    let response: Dispatcher.ResponseData;
    try {
      response = await undiciRequest(url, {
        method: 'POST',
        headers: { ...headers, accept: upstreamStream ? 'text/event-stream' : 'application/json' },
        body: JSON.stringify(translated.body),
        signal: options.signal,
        dispatcher: deps.dispatcher,
      });
    } catch (error) {
      throw failureFrom(error, options.signal, false);
    }
    if (response.statusCode >= 400) {
      const text = await readLimited(response.body, MAX_ERROR_BODY).catch(() => '');
      const retryAfterMs = parseRetryAfter(response.headers, deps.now());
      throw new UpstreamFailure(classifyHttpError(response.statusCode, text, retryAfterMs, secrets));
    }
    const isSse = String(response.headers['content-type'] ?? '').includes('text/event-stream');
    const context: ResponseContext = { created: Math.floor(deps.now() / 1000), jsonTool: translated.jsonTool };
    const out: UpstreamCall = {
      status: response.statusCode,
      headers: pickHeaders(response.headers),
      events: events(response.body, isSse, context, options.signal),
    };
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

function pickHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (FORWARDED_HEADERS.includes(name) || name.startsWith(FORWARDED_PREFIX)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

async function readLimited(body: AsyncIterable<Uint8Array>, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const piece of body) {
    parts.push(Buffer.from(piece));
    size += piece.length;
    if (size >= limit) break;
  }
  return Buffer.concat(parts).toString('utf8').slice(0, limit);
}
