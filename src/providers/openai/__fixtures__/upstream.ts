import type { CallOptions } from '../../target.js';
/**
 * A stand-in upstream on 127.0.0.1:0 for adapter tests over a real socket: it records every
 * request and answers with a reply function. Everything started is closed by `closeUpstreams`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { ChatRequest } from '../../../canonical/chat.js';
import { isUpstreamFailure, type FailureDetails } from '../../../canonical/failure.js';
import type { UpstreamCall, UpstreamEvent } from '../../target.js';

export interface Seen {
  method: string | undefined;
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export type Reply = (res: ServerResponse) => void;

export interface Upstream {
  baseUrl: string;
  seen: Seen[];
  dispatcher: Agent;
}

const open: { server: Server; agent: Agent }[] = [];

export async function startUpstream(reply: Reply): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
      seen.push({ method: req.method, url: req.url ?? '', headers: req.headers, body });
      reply(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dispatcher = new Agent();
  open.push({ server, agent: dispatcher });
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, dispatcher };
}

export async function closeUpstreams(): Promise<void> {
  for (const { server, agent } of open.splice(0)) {
    await agent.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

export const sse =
  (body: string, headers: Record<string, string> = {}): Reply =>
  (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', ...headers });
    res.end(body);
  };

export const json =
  (status: number, body: string, headers: Record<string, string> = {}): Reply =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

export const chatRequest = (stream: boolean, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'support-chat',
  messages: [{ role: 'user', content: 'Capital of Denmark?' }],
  stream,
  ...extra,
});

export async function drain(call: UpstreamCall): Promise<UpstreamEvent[]> {
  const events: UpstreamEvent[] = [];
  for await (const event of call.events) events.push(event);
  return events;
}

export async function failureOf(promise: Promise<unknown>): Promise<FailureDetails> {
  try {
    await promise;
  } catch (error) {
    if (isUpstreamFailure(error)) return error.details;
    throw error;
  }
  throw new Error('expected a failure');
}

export const callOptions = (stream: boolean): CallOptions => ({ signal: new AbortController().signal, stream });
