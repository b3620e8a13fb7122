import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CONFORMANCE, fixture } from '../openai/__fixtures__/conformance.js';
import { classifyAzureHttpError, filteredCategories } from './errors.js';

const promptFiltered = fixture('errors/azure-openai.content_filter.prompt.400.json');
const minimal = fixture('errors/azure-openai.prompt-filtered.minimal.400.json');

describe('classifyAzureHttpError', () => {
  it('a prompt blocked by the content filter is content_policy, naming the categories that tripped', () => {
    const details = classifyAzureHttpError(400, promptFiltered, undefined, []);
    expect(details).toMatchObject({ kind: 'content_policy', status: 400, code: 'content_filter', param: 'prompt', type: null });
    expect(details.message).toMatch(/^filtered: hate \(high\), self_harm \(high\), violence \(medium\) — The response was filtered due to the prompt/);
  });

  it('the minimal body (no innererror) is content_policy with Azure’s message as is', () => {
    expect(classifyAzureHttpError(400, minimal, undefined, [])).toMatchObject({ kind: 'content_policy', message: 'The response was filtered' });
  });

  it('innererror.code ResponsibleAIPolicyViolation is content_policy whatever error.code says; the spec’s key names are read too', () => {
    const body = JSON.stringify({
      error: {
        message: 'blocked',
        type: null,
        param: 'prompt',
        code: 'invalid_prompt',
        inner_error: { code: 'ResponsibleAIPolicyViolation', content_filter_results: { jailbreak: { filtered: true, detected: true } } },
      },
    });
    expect(classifyAzureHttpError(400, body, undefined, [])).toMatchObject({ kind: 'content_policy', message: 'filtered: jailbreak (detected) — blocked' });
  });

  it.each([
    [429, '{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded token rate limit. Please retry after 6 seconds."}}', 'rate_limited'],
    [401, '{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}', 'upstream_auth'],
    [404, '{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}', 'model_not_found'],
    [400, '{"error":{"message":"This model\'s maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}', 'context_window'],
    [500, '{"error":{"code":"InternalServerError","message":"The service is temporarily unable to process your request."}}', 'server_error'],
  ])('other statuses as OpenAI: %i → %s', (status, body, kind) => {
    expect(classifyAzureHttpError(status, body, 6_000, []).kind).toBe(kind);
  });
});

describe('filteredCategories', () => {
  it('reads the wire’s content_filter_result shape (valid per the Azure spec once self-harm is self_harm)', () => {
    const schema = JSON.parse(readFileSync(new URL('azure/azure-openai-content-filter.schema.json', CONFORMANCE), 'utf8')) as { $id: string };
    const ajv = new Ajv2020Module.default({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
    ajv.addSchema(schema);
    const result = (JSON.parse(promptFiltered) as { error: { innererror: { content_filter_result: Record<string, unknown> } } }).error.innererror
      .content_filter_result;
    const { 'self-harm': selfHarm, ...rest } = result;
    expect(ajv.getSchema(`${schema.$id}#/$defs/contentFilterPromptResults`)?.({ ...rest, self_harm: selfHarm })).toBe(true);
    expect(filteredCategories(result)).toEqual(['hate (high)', 'self_harm (high)', 'violence (medium)']);
  });

  it('ignores unfiltered categories and anything not a result', () => {
    expect(filteredCategories({ hate: { filtered: false, severity: 'safe' }, error: 'x', profanity: { filtered: true } })).toEqual(['profanity']);
    expect(filteredCategories(undefined)).toEqual([]);
  });
});
