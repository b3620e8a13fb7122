import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import type { ChatRequest } from '../../canonical/chat.js';
import { UpstreamFailure, isUpstreamFailure } from '../../canonical/failure.js';
import { capabilitiesFor, type CapabilityOverrides } from '../capabilities.js';
import type { Capabilities, CallOptions, Target, UpstreamCall, UpstreamEvent } from '../target.js';
import { parseRetryAfter } from '../retry-after.js';
import { classifyHttpError, classifyTransportError } from './errors.js';
import { toOpenAIBody } from './request.js';
import { parseOpenAIResponse } from './response.js';
import { parseOpenAIStream } from './stream.js';

export interface OpenAIProviderOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Stream from upstream even for non-streaming clients, so first-token/stall watchdogs protect them. */
  streamUpstream: boolean;
  /** Per-model capability overrides. */
  models?: Record<string, CapabilityOverrides>;
  dispatcher: Dispatcher;
  now?: () => number;
}

const MAX_ERROR_BODY = 64 * 1024;
const FORWARDED_HEADERS = [
  'x-request-id',
  'retry-after',
  'retry-after-ms',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
];

/** OpenAI-wire models: tools, structured output and images are the norm; prefill is not supported. */
export const OPENAI_DEFAULT_CAPABILITIES: Capabilities = { tools: true, jsonSchema: true, vision: true, prefill: false };

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
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];
  private readonly now: () => number;

  constructor(private readonly options: OpenAIProviderOptions) {
    this.url = new URL(options.baseUrl.replace(/\/+$/, '') + '/chat/completions');
    this.headers = { 'content-type': 'application/json', ...(options.headers ?? {}) };
    if (options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`;
    this.secrets = options.apiKey ? [options.apiKey] : [];
    this.now = options.now ?? Date.now;
  }

  target(model: string): Target {
    const provider = this.options.name;
    return {
      id: `${provider}/${model}`,
      provider,
      model,
      capabilities: capabilitiesFor(model, OPENAI_DEFAULT_CAPABILITIES, this.options.models?.[model]),
      streamsUpstream: (stream) => stream || this.options.streamUpstream,
      call: (request, options) => this.call(request, model, options),
    };
  }

  private async call(request: ChatRequest, model: string, options: CallOptions): Promise<UpstreamCall> {
    const upstreamStream = options.stream || this.options.streamUpstream;
    const body = JSON.stringify(toOpenAIBody(request, model, upstreamStream));
    let response: Dispatcher.ResponseData;
    try {
      response = await undiciRequest(this.url, {
        method: 'POST',
        headers: { ...this.headers, accept: upstreamStream ? 'text/event-stream' : 'application/json' },
        body,
        signal: options.signal,
        dispatcher: this.options.dispatcher,
      });
    } catch (error) {
      throw this.failureFrom(error, options.signal, false);
    }
    const headers = pickHeaders(response.headers);
    if (response.statusCode >= 400) {
      const text = await readLimited(response.body, MAX_ERROR_BODY).catch(() => '');
      const retryAfterMs = parseRetryAfter(response.headers, this.now());
      throw new UpstreamFailure(classifyHttpError(response.statusCode, text, retryAfterMs, this.secrets));
    }
    const contentType = String(response.headers['content-type'] ?? '');
    const isSse = contentType.includes('text/event-stream');
    return {
      status: response.statusCode,
      headers,
      events: this.events(response.body, isSse, options.signal),
    };
  }

  private async *events(body: Dispatcher.ResponseData['body'], isSse: boolean, signal: AbortSignal): AsyncGenerator<UpstreamEvent> {
    let complete = false;
    try {
      if (isSse) {
        yield* parseOpenAIStream(body, this.secrets);
      } else {
        const text = await body.text();
        yield { type: 'response', response: parseOpenAIResponse(text) };
      }
      complete = true;
    } catch (error) {
      throw this.failureFrom(error, signal, true);
    } finally {
      // A complete answer: read what is left (the end of the chunked body) so the connection is
      // reused. Anything else: close it, the upstream must stop generating.
      if (!body.destroyed) {
        if (complete) body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        else body.destroy();
      }
    }
  }

  private failureFrom(error: unknown, signal: AbortSignal, bodyStarted: boolean): UpstreamFailure {
    if (signal.aborted && isUpstreamFailure(signal.reason)) return signal.reason;
    if (isUpstreamFailure(error)) return error;
    return new UpstreamFailure(classifyTransportError(error, bodyStarted, this.secrets));
  }
}

function pickHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = raw[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
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
