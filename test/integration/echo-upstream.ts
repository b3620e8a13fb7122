/**
 * A careless upstream for leak tests: every answer repeats the credential it received, whole, in
 * its error message, in a response header and in an in-stream error event — the worst a real
 * provider or proxy has done. One body shape is readable as an OpenAI, Anthropic and Gemini error.
 * The model name picks the answer: `e400`, `e401`, `e403`, `e429`, `e500` or `estream`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ECHO_MODELS = ['e400', 'e401', 'e403', 'e429', 'e500', 'estream'] as const;

export interface EchoUpstream {
  readonly origin: string;
  close(): Promise<void>;
}

/** Whatever credential the request carries, in any provider's slot. */
function presentedKey(req: IncomingMessage, url: URL): string {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const bearer = /^Bearer\s+(.+)$/i.exec(header('authorization') ?? '')?.[1];
  return bearer ?? header('x-api-key') ?? header('api-key') ?? header('x-goog-api-key') ?? url.searchParams.get('key') ?? '(none)';
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://echo');
      const key = presentedKey(req, url);
      const model = ECHO_MODELS.find((m) => url.pathname.includes(m) || body.includes(`"${m}"`)) ?? 'e500';
      const echo = { 'x-echo-credential': key, 'www-authenticate': `Bearer error="invalid_token" token="${key}"` };
      if (model === 'estream') {
        res.writeHead(200, { ...echo, 'content-type': 'text/event-stream' });
        const chunk = { id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello ' }, finish_reason: null }] };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        res.end(`data: ${JSON.stringify({ error: { message: `key ${key} was revoked mid-stream`, type: 'server_error', code: null } })}\n\n`);
        return;
      }
      const status = Number(model.slice(1));
      const message = `Incorrect API key provided: ${key}. Your request headers were: authorization=Bearer ${key}; x-api-key=${key}`;
      const error = { type: 'error', error: { message, type: status === 401 ? 'authentication_error' : 'invalid_request_error', code: status === 401 ? 'invalid_api_key' : null, status: 'INVALID_ARGUMENT' } };
      res.writeHead(status, { ...echo, 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '1' } : {}) });
      res.end(JSON.stringify(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
