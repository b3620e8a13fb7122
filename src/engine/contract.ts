import type { ChatChoice, ChatRequest, ChatResponse, FinishReason, ToolCall } from '../canonical/chat.js';
import { UpstreamFailure } from '../canonical/failure.js';
import { compileJsonSchema, requestSchemaValidator, type JsonValidator } from './json-validators.js';

/**
 * Output contracts: what an answer must satisfy before it is served. Checked at the commit point
 * (a complete answer, or a buffered stream) or at the end of a streamed answer; a violation is
 * the failure kind `contract_violation`. See docs/reliability.md, "Output contracts".
 *
 * Two sources:
 * - the request: `response_format` `json_object` / `json_schema` (the text must parse, and
 *   validate against the schema), and `tools` (every tool call names an offered tool, and its
 *   arguments parse and validate against that tool's `parameters`);
 * - the route (`routes.<r>.contract`): allowed finish reasons, a minimum length, a JSON schema
 *   and a regex for text answers.
 *
 * A refusal or a content-filter verdict is the provider's safety decision and is never checked:
 * it is passed through (or routed around) by its own rules.
 */

export const CONTRACT_FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'] as const satisfies readonly FinishReason[];
export const CONTRACT_STREAM_MODES = ['pass', 'buffer'] as const;
export type ContractStreamMode = (typeof CONTRACT_STREAM_MODES)[number];

/** A route's contract as configured (plain data; see `compileRouteContract`). */
export interface RouteContractSpec {
  finishReasons: readonly FinishReason[] | undefined;
  minLength: number | undefined;
  jsonSchema: Record<string, unknown> | undefined;
  /** A pattern, or `/pattern/flags` (flags from `imsu`). */
  regex: string | undefined;
  stream: ContractStreamMode;
}

/** A route's contract, compiled once when the routes are built. */
export interface RouteContract {
  finishReasons: readonly FinishReason[] | undefined;
  minLength: number | undefined;
  jsonSchema: JsonValidator | undefined;
  regex: RegExp | undefined;
  /** Streams: `pass` checks at the end (a violation ends the stream with an error); `buffer` holds the answer until it passes. */
  stream: ContractStreamMode;
}

/** Which check refused the answer (the attempt's failure `code`). */
export type ContractCheck = 'finish_reason' | 'min_length' | 'regex' | 'json_schema' | 'response_format' | 'tool_call' | 'tool_arguments';

export interface ContractViolation {
  check: ContractCheck;
  /** Which rule failed and where — never the answer's text. At most `MAX_MESSAGE_CHARS`. */
  message: string;
}

export const MAX_MESSAGE_CHARS = 240;

/** A contract problem in config: which key, and why. */
export class ContractSpecError extends Error {
  constructor(
    readonly key: 'regex' | 'json_schema',
    message: string,
  ) {
    super(message);
    this.name = 'ContractSpecError';
  }
}

/** Compiles the regex and the schema; throws ContractSpecError naming the key when one is invalid. */
export function compileRouteContract(spec: RouteContractSpec): RouteContract {
  let jsonSchema: JsonValidator | undefined;
  if (spec.jsonSchema) {
    try {
      jsonSchema = compileJsonSchema(spec.jsonSchema);
    } catch (error) {
      throw new ContractSpecError('json_schema', `not a valid JSON Schema: ${errorMessage(error)}`);
    }
  }
  return {
    finishReasons: spec.finishReasons,
    minLength: spec.minLength,
    jsonSchema,
    regex: spec.regex === undefined ? undefined : compileRegex(spec.regex),
    stream: spec.stream,
  };
}

const REGEX_LITERAL = /^\/(.*)\/([a-z]*)$/s;

function compileRegex(source: string): RegExp {
  const literal = REGEX_LITERAL.exec(source);
  const pattern = literal ? (literal[1] ?? '') : source;
  const flags = literal ? (literal[2] ?? '') : '';
  const bad = [...flags].find((f) => !'imsu'.includes(f));
  if (bad !== undefined) throw new ContractSpecError('regex', `flag '${bad}' is not allowed (use i, m, s, u)`);
  try {
    return new RegExp(pattern, flags);
  } catch (error) {
    throw new ContractSpecError('regex', `not a valid regular expression: ${errorMessage(error)}`);
  }
}

/** Whether any check applies to answers of this request on this route (else the hot path skips contracts entirely). */
export function contractApplies(request: ChatRequest, contract: RouteContract | undefined): boolean {
  if (contract && (contract.finishReasons || contract.minLength !== undefined || contract.jsonSchema || contract.regex)) return true;
  const format = request.response_format;
  const type = isObject(format) ? format['type'] : undefined;
  return type === 'json_object' || type === 'json_schema' || (Array.isArray(request.tools) && request.tools.length > 0);
}

/**
 * The first check `response` fails, or undefined when it satisfies the request's and the route's
 * contract. Pure (validators are memoised per schema); `response` may be an assembled stream.
 */
export function checkContract(response: ChatResponse, request: ChatRequest, contract: RouteContract | undefined): ContractViolation | undefined {
  const format = requestedFormat(request);
  const tools = offeredTools(request);
  for (const choice of response.choices) {
    const violation = checkChoice(choice, format, tools, contract);
    if (violation) return { check: violation.check, message: truncate(response.choices.length > 1 ? `choice ${choice.index}: ${violation.message}` : violation.message) };
  }
  return undefined;
}

type RequestedFormat = { type: 'json_object' } | { type: 'json_schema'; validate: JsonValidator | null };
type OfferedTool = { name: string; parameters: Record<string, unknown> | undefined };

function checkChoice(choice: ChatChoice, format: RequestedFormat | undefined, tools: OfferedTool[], contract: RouteContract | undefined): ContractViolation | undefined {
  const m = choice.message;
  if (choice.finish_reason === 'content_filter' || (typeof m.refusal === 'string' && m.refusal.length > 0)) return undefined;
  if (contract?.finishReasons && !contract.finishReasons.includes(choice.finish_reason as FinishReason)) {
    return { check: 'finish_reason', message: `finish_reason '${choice.finish_reason ?? 'none'}' is not one of: ${contract.finishReasons.join(', ')}` };
  }
  const calls = m.tool_calls ?? [];
  if (calls.length > 0) return tools.length > 0 ? checkToolCalls(calls, tools) : undefined;

  const text = typeof m.content === 'string' ? m.content : '';
  if (contract?.minLength !== undefined) {
    const length = characters(text);
    if (length < contract.minLength) return { check: 'min_length', message: `the answer has ${length} characters; the route requires at least ${contract.minLength}` };
  }
  if (contract?.regex && !contract.regex.test(text)) {
    return { check: 'regex', message: `the answer does not match the route's regex ${String(contract.regex)}` };
  }
  if (!format && !contract?.jsonSchema) return undefined;
  const parsed = parseJson(text);
  if (format) {
    if (!parsed.ok) return { check: 'response_format', message: `response_format ${format.type}: the answer is not valid JSON` };
    if (format.type === 'json_object' && !isObject(parsed.value)) return { check: 'response_format', message: 'response_format json_object: the answer is not a JSON object' };
    const error = format.type === 'json_schema' ? format.validate?.(parsed.value) : undefined;
    if (error) return { check: 'response_format', message: `response_format json_schema: ${error}` };
  }
  if (contract?.jsonSchema) {
    if (!parsed.ok) return { check: 'json_schema', message: "the answer is not valid JSON (the route's json_schema)" };
    const error = contract.jsonSchema(parsed.value);
    if (error) return { check: 'json_schema', message: `the route's json_schema: ${error}` };
  }
  return undefined;
}

function checkToolCalls(calls: readonly ToolCall[], tools: OfferedTool[]): ContractViolation | undefined {
  for (const call of calls) {
    // A call of another kind (e.g. a custom tool's free-form input) has no JSON arguments to check.
    const fn = (call as Partial<ToolCall>).function;
    if (!fn || typeof fn.name !== 'string' || typeof fn.arguments !== 'string') continue;
    const name = fn.name;
    const tool = tools.find((t) => t.name === name);
    if (!tool) return { check: 'tool_call', message: `called '${name}', which the request does not offer` };
    const raw = fn.arguments.trim();
    const parsed = raw === '' ? { ok: true as const, value: {} } : parseJson(raw);
    if (!parsed.ok) return { check: 'tool_arguments', message: `${name}: the arguments are not valid JSON` };
    if (!isObject(parsed.value)) return { check: 'tool_arguments', message: `${name}: the arguments are not a JSON object` };
    const error = tool.parameters ? requestSchemaValidator(tool.parameters)?.(parsed.value) : undefined;
    if (error) return { check: 'tool_arguments', message: `${name}: ${error}` };
  }
  return undefined;
}

/** The request's `response_format`, when it asks for JSON. */
function requestedFormat(request: ChatRequest): RequestedFormat | undefined {
  const format = request.response_format;
  if (!isObject(format)) return undefined;
  if (format['type'] === 'json_object') return { type: 'json_object' };
  if (format['type'] !== 'json_schema') return undefined;
  const spec = format['json_schema'];
  const schema = isObject(spec) ? spec['schema'] : undefined;
  return { type: 'json_schema', validate: isObject(schema) ? requestSchemaValidator(schema) : null };
}

/** The request's tools by name (function tools with their parameter schemas; other kinds by name only). */
function offeredTools(request: ChatRequest): OfferedTool[] {
  if (!Array.isArray(request.tools) || request.tools.length === 0) return [];
  const out: OfferedTool[] = [];
  for (const tool of request.tools) {
    if (!isObject(tool)) continue;
    const fn = isObject(tool['function']) ? tool['function'] : undefined;
    const custom = isObject(tool['custom']) ? tool['custom'] : undefined;
    const name = fn?.['name'] ?? custom?.['name'] ?? tool['name'];
    if (typeof name !== 'string') continue;
    const parameters = fn?.['parameters'];
    out.push({ name, parameters: isObject(parameters) ? parameters : undefined });
  }
  return out;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Length in characters (code points), not UTF-16 units. */
function characters(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS ? message : `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The contract of one request on one route: what `checkContract` checks, bound once per request. */
export interface RequestContract {
  stream: ContractStreamMode;
  check(response: ChatResponse): ContractViolation | undefined;
}

/** The request's contract on this route, or undefined when no check applies (the common, free case). */
export function contractFor(request: ChatRequest, contract: RouteContract | undefined): RequestContract | undefined {
  if (!contractApplies(request, contract)) return undefined;
  return { stream: contract?.stream ?? 'pass', check: (response) => checkContract(response, request, contract) };
}

/** A violation as the attempt's failure: kind `contract_violation`, code = the check that failed. */
export function contractFailure(violation: ContractViolation): UpstreamFailure {
  return new UpstreamFailure({ kind: 'contract_violation', code: violation.check, message: violation.message });
}
