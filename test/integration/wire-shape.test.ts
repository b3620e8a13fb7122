import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { useHarness } from './harness.js';

/** What the gateway itself writes (served answers, static answers, errors) is checked against OpenAI's own schema. */
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;
const schema = JSON.parse(readFileSync(new URL('../../../shared/conformance/openai-chat.schema.json', import.meta.url), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
ajv.addSchema(schema);
const validator = (def: string) => {
  const v = ajv.getSchema(`${schema.$id}#/$defs/${def}`);
  if (!v) throw new Error(`no $def ${def}`);
  return (value: unknown): void => {
    const ok = v(value);
    expect(ok ? [] : v.errors, JSON.stringify(value).slice(0, 300)).toEqual([]);
  };
};
const response = validator('CreateChatCompletionResponse');
const chunk = validator('CreateChatCompletionStreamResponse');
const error = validator('ErrorResponse');
const models = validator('ListModelsResponse');

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await request(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.statusCode, text: await res.body.text() };
}

function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]')
    .map((e) => JSON.parse(e.slice(6)) as unknown);
}

const messages = [{ role: 'user', content: 'Hello' }];

describe('the gateway writes OpenAI-valid payloads', () => {
  const start = useHarness();

  it('served answers, streamed chunks (with usage), static answers and all-failed errors', async () => {
    const h = await start({
      simulators: { sim: { good: { kind: 'ok', text: 'Hi there' }, bad: { kind: 'status', status: 500 } } },
      routes: {
        good: { ladder: [{ targets: ['sim/good'] }] },
        degraded: { ladder: [{ targets: ['sim/bad'] }, { static: 'busy' }] },
        dead: { ladder: [{ targets: ['sim/bad'] }] },
      },
    });
    const url = h.gateway.url;
    for (const model of ['good', 'degraded']) {
      const plain = await post(url, { model, messages });
      expect(plain.status).toBe(200);
      response(JSON.parse(plain.text));
      const streamed = await post(url, { model, messages, stream: true, stream_options: { include_usage: true } });
      const chunks = sseData(streamed.text);
      expect(chunks.length).toBeGreaterThan(2);
      for (const c of chunks) chunk(c);
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
    }
    const failed = await post(url, { model: 'dead', messages });
    expect(failed.status).toBe(503);
    error(JSON.parse(failed.text));
    const modelsRes = await request(`${url}/models`);
    models(await modelsRes.body.json());
  });

  it('an error passed back from a provider whose error type is null (Azure content filter) still has a string type', async () => {
    const h = await start({
      simulators: { sim: { filtered: { kind: 'content_filter' } } },
      routes: { chat: { ladder: [{ targets: ['sim/filtered'] }] } },
    });
    const res = await post(h.gateway.url, { model: 'chat', messages });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text) as { error: { code: string; type: string } };
    error(body);
    expect(body.error.code).toBe('content_filter');
  });

  it('bad-input errors and the mid-stream error event', async () => {
    const h = await start({
      simulators: { sim: { cut: { kind: 'cut', after_chunks: 2, text: 'one two three four' } } },
      routes: { chat: { ladder: [{ targets: ['sim/cut'] }] } },
    });
    for (const body of ['{', { messages }, { model: 'chat', messages: [] }, { model: 'nope', messages }]) {
      const res = await request(`${h.gateway.url}/chat/completions`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      error(await res.body.json());
    }
    const streamed = await post(h.gateway.url, { model: 'chat', messages, stream: true });
    const events = sseData(streamed.text);
    const last = events.at(-1);
    error(last);
    for (const c of events.slice(0, -1)) chunk(c);
    expect(streamed.text).not.toContain('[DONE]');
  });
});
