import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { sampleArguments, sampleFromSchema } from './schema-sample.js';

function accepts(schema: Record<string, unknown>, value: unknown): boolean {
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  addFormatsModule.default(ajv);
  const { $schema: _s, ...rest } = schema;
  return ajv.validate(rest, value) as boolean;
}

describe('sampleFromSchema', () => {
  it('fills only the required properties, with small valid values', () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' }, unit: { type: 'string' } },
      required: ['city', 'days'],
    };
    expect(sampleFromSchema(schema)).toEqual({ city: 'example', days: 1 });
  });

  it.each([
    [{ type: 'string', enum: ['x', 'y'] }, 'x'],
    [{ const: 7 }, 7],
    [{ type: 'string', format: 'date-time' }, '2024-01-01T00:00:00Z'],
    [{ type: 'string', minLength: 10 }, 'examplexxx'],
    [{ type: 'string', maxLength: 3 }, 'exa'],
    [{ type: 'number', minimum: 3.5 }, 3.5],
    [{ type: 'number', maximum: -2 }, -2],
    [{ type: 'integer', exclusiveMinimum: 5 }, 6],
    [{ type: ['null', 'boolean'] }, true],
    [{ type: 'array', items: { type: 'integer' }, minItems: 2 }, [1, 1]],
    [{ anyOf: [{ type: 'null' }, { type: 'string' }] }, 'example'],
    [{ type: 'STRING' }, 'example'],
    [{ type: 'OBJECT', properties: { n: { type: 'NUMBER' } }, required: ['n'] }, { n: 1 }],
    [{ default: 'd', type: 'string' }, 'd'],
  ])('%j → %j', (schema, expected) => {
    expect(sampleFromSchema(schema)).toEqual(expected);
    // Gemini's upper-case OpenAPI types are not JSON Schema; the rest is checked with Ajv.
    if (!JSON.stringify(schema).match(/"[A-Z]+"/)) expect(accepts(schema, expected)).toBe(true);
  });

  it('follows $refs and merges allOf', () => {
    const schema = {
      $defs: { pos: { type: 'integer', minimum: 1 } },
      allOf: [{ type: 'object', properties: { a: { $ref: '#/$defs/pos' } }, required: ['a'] }, { properties: { b: { type: 'boolean' } }, required: ['b'] }],
    };
    const value = sampleFromSchema(schema);
    expect(value).toEqual({ a: 1, b: true });
    expect(accepts(schema, value)).toBe(true);
  });

  it('terminates on recursive required schemas', () => {
    const schema = { $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } }, required: ['next'] } }, $ref: '#/$defs/node' };
    expect(() => JSON.stringify(sampleFromSchema(schema))).not.toThrow();
  });

  it('satisfies the responseJsonSchema of the js-genai recording', () => {
    const request = JSON.parse(
      readFileSync(
        new URL(
          '../../../shared/conformance/fixtures/gemini/js-genai-recordings/Client_Tests_generateContent_ML_Dev_should_generate_content_with_given_valid_json_schema_in_responseSchema.0.request.json',
          import.meta.url,
        ),
        'utf8',
      ),
    ) as { generationConfig: { responseJsonSchema: Record<string, unknown> } };
    const schema = request.generationConfig.responseJsonSchema;
    expect(accepts(schema, sampleFromSchema(schema))).toBe(true);
  });

  it('sampleArguments always gives an object', () => {
    expect(sampleArguments(undefined)).toEqual({});
    expect(sampleArguments({ type: 'string' })).toEqual({});
    expect(sampleArguments({ type: 'object', properties: {} })).toEqual({});
  });
});
