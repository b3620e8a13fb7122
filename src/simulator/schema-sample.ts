/**
 * A small value that satisfies a JSON Schema (draft-07 / 2020-12, OpenAI strict schemas, Gemini's
 * OpenAPI-subset schemas with upper-case types). Only `required` properties are filled in; strings
 * honour enum/const/format/length, numbers honour bounds, arrays get `minItems` items. `$ref`s to
 * local `#/$defs/…` / `#/definitions/…` are followed. Not a validator: `pattern` is ignored.
 */

type Schema = Record<string, unknown>;

const MAX_DEPTH = 12;

function isRecord(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const FORMATS: Record<string, string> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00Z',
  email: 'user@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  uuid: '00000000-0000-4000-8000-000000000000',
  hostname: 'example.com',
  ipv4: '127.0.0.1',
  ipv6: '::1',
  duration: 'PT1S',
};

function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#')) return {};
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isRecord(node)) return {};
    node = node[key];
  }
  return node ?? {};
}

function typeOf(schema: Schema): string | undefined {
  const t = schema['type'];
  const pick = Array.isArray(t) ? t.find((x) => typeof x === 'string' && x.toLowerCase() !== 'null') ?? t[0] : t;
  if (typeof pick === 'string') return pick.toLowerCase();
  if (isRecord(schema['properties']) || Array.isArray(schema['required'])) return 'object';
  if (schema['items'] !== undefined) return 'array';
  return undefined;
}

function sampleString(schema: Schema): string {
  const format = typeof schema['format'] === 'string' ? FORMATS[schema['format']] : undefined;
  let s = format ?? 'example';
  const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
  const max = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Infinity;
  while (s.length < min) s += 'x';
  if (s.length > max) s = s.slice(0, Math.max(max, 0));
  return s;
}

function sampleNumber(schema: Schema, integer: boolean): number {
  const num = (k: string): number | undefined => (typeof schema[k] === 'number' ? (schema[k] as number) : undefined);
  const lo = num('minimum') ?? (num('exclusiveMinimum') !== undefined ? (num('exclusiveMinimum') as number) + (integer ? 1 : 0.5) : undefined);
  const hi = num('maximum') ?? (num('exclusiveMaximum') !== undefined ? (num('exclusiveMaximum') as number) - (integer ? 1 : 0.5) : undefined);
  let n = lo ?? (hi !== undefined && hi < 1 ? hi : 1);
  if (integer) n = lo !== undefined ? Math.ceil(n) : Math.floor(n);
  return n;
}

function sample(schemaIn: unknown, root: unknown, depth: number): unknown {
  if (!isRecord(schemaIn)) return schemaIn === false ? null : 'example';
  let schema = schemaIn;
  if (typeof schema['$ref'] === 'string') {
    if (depth > MAX_DEPTH) return null;
    return sample(resolveRef(schema['$ref'], root), root, depth + 1);
  }
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) {
    return schema['enum'].find((v) => v !== null) ?? schema['enum'][0];
  }
  if ('default' in schema && schema['default'] !== undefined) return schema['default'];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const nonNull = options.find((o) => !(isRecord(o) && typeof o['type'] === 'string' && o['type'].toLowerCase() === 'null'));
      return sample(nonNull ?? options[0], root, depth + 1);
    }
  }
  if (Array.isArray(schema['allOf'])) {
    const merged: Schema = {};
    const required: unknown[] = [];
    for (const part of schema['allOf']) {
      const p = isRecord(part) && typeof part['$ref'] === 'string' ? resolveRef(part['$ref'], root) : part;
      if (!isRecord(p)) continue;
      const { properties, required: req, ...restOfPart } = p;
      Object.assign(merged, restOfPart);
      if (Array.isArray(req)) required.push(...req);
      if (isRecord(properties)) merged['properties'] = { ...(isRecord(merged['properties']) ? merged['properties'] : {}), ...properties };
    }
    const { allOf: _allOf, ...rest } = schema;
    schema = { ...merged, ...rest, required: [...required, ...(Array.isArray(rest['required']) ? rest['required'] : [])] };
  }
  if (depth > MAX_DEPTH) return null;
  switch (typeOf(schema)) {
    case 'object': {
      const props = isRecord(schema['properties']) ? schema['properties'] : {};
      const required = Array.isArray(schema['required']) ? schema['required'].filter((k): k is string => typeof k === 'string') : [];
      const out: Record<string, unknown> = {};
      for (const key of required) out[key] = sample(props[key] ?? {}, root, depth + 1);
      return out;
    }
    case 'array': {
      const min = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
      const items = Array.isArray(schema['prefixItems']) ? schema['prefixItems'] : undefined;
      return Array.from({ length: Math.max(min, items?.length ?? 0) }, (_, i) => sample(items?.[i] ?? schema['items'] ?? {}, root, depth + 1));
    }
    case 'string':
      return sampleString(schema);
    case 'integer':
      return sampleNumber(schema, true);
    case 'number':
      return sampleNumber(schema, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'example';
  }
}

/** A value valid for `schema`. */
export function sampleFromSchema(schema: unknown): unknown {
  return sample(schema, schema, 0);
}

/** Arguments object for a tool whose parameters are `schema` (always an object). */
export function sampleArguments(schema: unknown): Record<string, unknown> {
  const v = schema === undefined ? {} : sampleFromSchema(schema);
  return isRecord(v) ? v : {};
}
