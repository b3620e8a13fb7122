import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * JSON Schema validators for output contracts, compiled once per schema and cached — compiling
 * generates code and costs far more than validating, so the hot path must never repeat it.
 *
 * - A route's schema is compiled when the config loads and kept on the route.
 * - A request's schema (`response_format.json_schema`, a tool's `parameters`) arrives as a fresh
 *   object with every request: the cache is keyed by the object (for the attempts of one request)
 *   and then by its JSON text in a bounded LRU (for the next request with the same schema).
 *
 * Options: `strict: false` (a schema written for a provider may carry keywords Ajv does not know),
 * `allErrors: false` (stop at the first error), no remote `$ref`s (nothing is ever fetched: an
 * unresolvable reference is a compile error), `format` not checked (no format plugin).
 */

export type JsonValidator = (value: unknown) => string | undefined;

/** Largest request schema (as JSON text) that is compiled; a larger one is only checked for being JSON. */
export const MAX_REQUEST_SCHEMA_CHARS = 64 * 1024;
/** Distinct request schemas whose validators are kept. */
export const REQUEST_SCHEMA_CACHE_SIZE = 256;

const OPTIONS: Options = { strict: false, allErrors: false, addUsedSchema: false, logger: false };
const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';

let draft7: Ajv | undefined;
let draft2020: Ajv2020 | undefined;

function compiler(schema: Record<string, unknown>): Ajv | Ajv2020 {
  const declared = typeof schema['$schema'] === 'string' ? schema['$schema'].replace(/#$/, '') : undefined;
  if (declared === DRAFT_2020) return (draft2020 ??= new Ajv2020(OPTIONS));
  return (draft7 ??= new Ajv(OPTIONS));
}

const compiled = new WeakMap<object, JsonValidator>();

/** Compiles `schema` (once per schema object); throws (with Ajv's reason) when it is not a valid JSON Schema. */
export function compileJsonSchema(schema: Record<string, unknown>): JsonValidator {
  const known = compiled.get(schema);
  if (known) return known;
  const ajv = compiler(schema);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } finally {
    // Our caches own the validator; Ajv's own cache would otherwise keep every request's schema forever.
    ajv.removeSchema(schema);
  }
  const validator: JsonValidator = (value) => (validate(value) ? undefined : describeError(validate.errors?.[0]));
  compiled.set(schema, validator);
  return validator;
}

/** `/path must …`: where in the value and which rule. Never the value itself. */
function describeError(error: ErrorObject | undefined): string {
  if (!error) return 'does not match the schema';
  return `${error.instancePath || '(root)'} ${error.message ?? `fails ${error.keyword}`}`;
}

const byObject = new WeakMap<object, JsonValidator | null>();
const byText = new Map<string, JsonValidator | null>();

/**
 * The validator of a schema a request carries, or null when it cannot be compiled (too large, or
 * not a schema Ajv understands: the upstream accepted it, so the answer is only checked for being
 * JSON). Cached: see the module comment.
 */
export function requestSchemaValidator(schema: Record<string, unknown>): JsonValidator | null {
  const known = byObject.get(schema);
  if (known !== undefined) return known;
  const text = JSON.stringify(schema);
  let validator = byText.get(text);
  if (validator !== undefined) {
    byText.delete(text); // re-insert: most recently used last
  } else {
    validator = text.length > MAX_REQUEST_SCHEMA_CHARS ? null : tryCompile(schema);
    if (byText.size >= REQUEST_SCHEMA_CACHE_SIZE) {
      const oldest = byText.keys().next();
      if (!oldest.done) byText.delete(oldest.value);
    }
  }
  byText.set(text, validator);
  byObject.set(schema, validator);
  return validator;
}

function tryCompile(schema: Record<string, unknown>): JsonValidator | null {
  try {
    return compileJsonSchema(schema);
  } catch {
    return null;
  }
}
