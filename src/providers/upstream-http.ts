import { request as undiciRequest, type Dispatcher } from 'undici';
import type { FailureDetails } from '../canonical/failure.js';
import { UpstreamFailure, isUpstreamFailure } from '../canonical/failure.js';
import { parseRetryAfter } from './retry-after.js';
import type { UpstreamCall, UpstreamEvent } from './target.js';
import { classifyTransportError } from './transport-errors.js';

export type UpstreamBody = Dispatcher.ResponseData['body'];

/**
 * Everything that differs between wire formats for one HTTP call; the mechanics are shared.
 * `E` is what the successful body is read into: chat events by default.
 */
export interface UpstreamHttpCall<E = UpstreamEvent> {
  url: URL | string;
  headers: Record<string, string>;
  /** Per-target extra headers; the adapter's own (auth, content type) win over them. */
  extraHeaders?: Record<string, string> | undefined;
  body: string;
  /** The call streams from upstream (sets `accept`). */
  stream: boolean;
  signal: AbortSignal;
  dispatcher: Dispatcher;
  now: () => number;
  /** Values to scrub from anything that leaves (the provider's key). */
  secrets: readonly string[];
  /** This wire format's reading of an error response. */
  classifyHttpError(status: number, body: string, retryAfterMs: number | undefined, secrets: readonly string[]): FailureDetails;
  /** Whether a response header is forwarded into `UpstreamCall.headers`. */
  forwardHeader(name: string): boolean;
  /** This wire format's reading of a successful body. */
  parse(body: UpstreamBody, isSse: boolean, headers: Record<string, string>): AsyncIterable<E>;
}

/** A successful upstream response whose body is read lazily into `E`s. */
export interface UpstreamResponse<E> {
  status: number;
  headers: Record<string, string>;
  events: AsyncIterable<E>;
}

const MAX_ERROR_BODY = 64 * 1024;

/**
 * One upstream HTTP call over undici, the same for every adapter: transport errors classified by
 * code; an error status read (bounded) and classified with its Retry-After; a successful body
 * parsed lazily, drained after a complete answer so the connection is reused, and destroyed
 * otherwise so the upstream stops generating. An abort by the engine surfaces as the engine's
 * own reason (a watchdog's FailureKind or the client's cancel).
 */
export function callUpstream(c: UpstreamHttpCall): Promise<UpstreamCall> {
  return requestUpstream(c);
}

/** A non-streaming call whose successful body is one JSON document, read whole and translated once (embeddings). */
export interface UpstreamJsonCall<T> extends Omit<UpstreamHttpCall<T>, 'stream' | 'parse'> {
  /** Translates the body text; throws an `UpstreamFailure` (e.g. `malformed_response`) when it cannot. */
  parse(text: string): T;
}

/** `callUpstream` for a one-document answer: resolves at the response headers; `result()` reads the body. */
export async function callUpstreamJson<T>(c: UpstreamJsonCall<T>): Promise<{ status: number; headers: Record<string, string>; result(): Promise<T> }> {
  const out = await requestUpstream<T>({ ...c, stream: false, parse: (body) => parsedOnce(body, c.parse) });
  return { status: out.status, headers: out.headers, result: () => onlyItem(out.events) };
}

async function* parsedOnce<T>(body: UpstreamBody, parse: (text: string) => T): AsyncGenerator<T> {
  yield parse(await body.text());
}

/** Reads an iterable to its end (so the body is released cleanly) and returns its one item. */
async function onlyItem<T>(items: AsyncIterable<T>): Promise<T> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  if (out.length !== 1) throw new UpstreamFailure({ kind: 'malformed_response', message: 'the upstream response had no body' });
  return out[0] as T;
}

async function requestUpstream<E>(c: UpstreamHttpCall<E>): Promise<UpstreamResponse<E>> {
  let response: Dispatcher.ResponseData;
  try {
    response = await undiciRequest(c.url, {
      method: 'POST',
      headers: { ...c.extraHeaders, ...c.headers, accept: c.stream ? 'text/event-stream' : 'application/json' },
      body: c.body,
      signal: c.signal,
      dispatcher: c.dispatcher,
    });
  } catch (error) {
    throw failureFrom(error, c, false);
  }
  const headers = pickHeaders(response.headers, c.forwardHeader);
  if (response.statusCode >= 400) {
    const text = await readLimited(response.body, MAX_ERROR_BODY).catch(() => '');
    if (!response.body.destroyed) response.body.destroy();
    const retryAfterMs = parseRetryAfter(response.headers, c.now());
    throw new UpstreamFailure(c.classifyHttpError(response.statusCode, text, retryAfterMs, c.secrets));
  }
  const isSse = String(response.headers['content-type'] ?? '').includes('text/event-stream');
  return { status: response.statusCode, headers, events: events(response.body, isSse, headers, c) };
}

async function* events<E>(body: UpstreamBody, isSse: boolean, headers: Record<string, string>, c: UpstreamHttpCall<E>): AsyncGenerator<E> {
  let complete = false;
  try {
    yield* c.parse(body, isSse, headers);
    complete = true;
  } catch (error) {
    throw failureFrom(error, c, true);
  } finally {
    if (!body.destroyed) {
      if (complete) body.dump({ limit: MAX_ERROR_BODY }).catch(() => undefined);
      else body.destroy();
    }
  }
}

function failureFrom<E>(error: unknown, c: UpstreamHttpCall<E>, bodyStarted: boolean): UpstreamFailure {
  if (c.signal.aborted && isUpstreamFailure(c.signal.reason)) return c.signal.reason;
  if (isUpstreamFailure(error)) return error;
  return new UpstreamFailure(classifyTransportError(error, bodyStarted, c.secrets));
}

function pickHeaders(raw: Record<string, string | string[] | undefined>, keep: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined && keep(name)) out[name] = Array.isArray(value) ? value.join(', ') : value;
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
