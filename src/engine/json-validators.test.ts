import { describe, expect, it } from 'vitest';
import { compileJsonSchema, MAX_REQUEST_SCHEMA_CHARS, REQUEST_SCHEMA_CACHE_SIZE, requestSchemaValidator } from './json-validators.js';

const schema = () => ({ type: 'object', properties: { n: { type: 'number' } }, required: ['n'] });

describe('JSON schema validators are compiled once, not per request', () => {
  it('a route schema: once per schema object', () => {
    const s = schema();
    expect(compileJsonSchema(s)).toBe(compileJsonSchema(s));
  });

  it("a request's schema: by object, then by its JSON text (each request parses a fresh object)", () => {
    const first = requestSchemaValidator(schema());
    expect(first).not.toBeNull();
    expect(requestSchemaValidator(schema())).toBe(first);
    expect(first?.({ n: 1 })).toBeUndefined();
    expect(first?.({ n: 'one' })).toBe('/n must be number');
  });

  it('the text cache is bounded (least recently used goes first)', () => {
    const kept = requestSchemaValidator({ ...schema(), title: 'kept' });
    for (let i = 0; i < REQUEST_SCHEMA_CACHE_SIZE + 10; i++) {
      requestSchemaValidator({ ...schema(), title: `filler ${i}` });
      if (i % 50 === 0) requestSchemaValidator({ ...schema(), title: 'kept' }); // used: stays
    }
    expect(requestSchemaValidator({ ...schema(), title: 'kept' })).toBe(kept);
    const evicted = requestSchemaValidator({ ...schema(), title: 'filler 0' });
    expect(requestSchemaValidator({ ...schema(), title: 'filler 0' })).toBe(evicted);
  });

  it('schemas with the same $id compile side by side (nothing is registered on the shared instance)', () => {
    const a = requestSchemaValidator({ $id: 'https://example.com/s', type: 'string' });
    const b = requestSchemaValidator({ $id: 'https://example.com/s', type: 'number' });
    expect(a?.('x')).toBeUndefined();
    expect(b?.(1)).toBeUndefined();
    expect(b?.('x')).toBe('(root) must be number');
  });

  it('an oversized or invalid request schema yields no validator (the answer is then only checked for being JSON)', () => {
    expect(requestSchemaValidator({ type: 'object', description: 'x'.repeat(MAX_REQUEST_SCHEMA_CHARS) })).toBeNull();
    expect(requestSchemaValidator({ type: 12 })).toBeNull();
  });
});
