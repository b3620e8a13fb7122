import type { ChatRequest } from '../../canonical/chat.js';
import { isObject } from './decode.js';
import { unsupported } from './messages.js';
import type { InputSchema, Tool, ToolChoice } from './wire.js';

/**
 * Tools, `tool_choice`, `parallel_tool_calls` and `response_format` → Anthropic `tools` and
 * `tool_choice`.
 *
 * Structured output is emulated: the 2023-06-01 Messages API has no JSON mode, so a
 * `response_format` of `json_schema` (or `json_object`) adds one tool whose `input_schema` is the
 * requested schema and makes the model call it. The response translators turn that tool call
 * back into the message's text content (the tool's input, serialised), with `finish_reason`
 * `stop`. Without client tools the answer tool is forced by name; with client tools the model
 * must call *a* tool (`any`): one of the client's, or the answer tool to give its final answer.
 */

export interface TranslatedTools {
  tools?: Tool[];
  tool_choice?: ToolChoice;
  /** Name of the answer tool when structured output is emulated. */
  jsonTool?: string;
}

const JSON_TOOL_NAME = 'json_response';
const JSON_TOOL_DESCRIPTION = 'Give your final answer by calling this tool. Its input is the answer: a JSON value matching the schema.';

type ClientChoice = { type: 'auto' | 'none' | 'required' } | { type: 'function'; name: string };

export function toAnthropicTools(request: ChatRequest): TranslatedTools {
  const tools = (request.tools ?? []).map((tool, i) => toTool(tool, i));
  const choice = readChoice(request.tool_choice);
  const noParallel = request.parallel_tool_calls === false;
  const answer = readResponseFormat(request.response_format);

  if (!answer) {
    if (tools.length === 0) return {};
    const out: TranslatedTools = { tools };
    if (choice) out.tool_choice = toChoice(choice, noParallel);
    else if (noParallel) out.tool_choice = { type: 'auto', disable_parallel_tool_use: true };
    return out;
  }

  const jsonTool = uniqueName(JSON_TOOL_NAME, tools);
  const description = answer.description ? `${JSON_TOOL_DESCRIPTION} ${answer.description}` : JSON_TOOL_DESCRIPTION;
  const all = [...tools, { name: jsonTool, description, input_schema: answer.schema }];
  let toolChoice: ToolChoice;
  if (tools.length === 0 || choice?.type === 'none') toolChoice = { type: 'tool', name: jsonTool, disable_parallel_tool_use: true };
  else if (choice?.type === 'function') toolChoice = toChoice(choice, noParallel);
  else toolChoice = noParallel ? { type: 'any', disable_parallel_tool_use: true } : { type: 'any' };
  return { tools: all, tool_choice: toolChoice, jsonTool };
}

/** True when the tool choice makes the model call a tool (incompatible with extended thinking). */
export function forcesToolUse(choice: ToolChoice | undefined): boolean {
  return choice?.type === 'any' || choice?.type === 'tool';
}

function toTool(tool: unknown, i: number): Tool {
  if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function) || typeof tool.function.name !== 'string') {
    throw unsupported(`tools[${i}]`, 'only function tools can be sent to Anthropic');
  }
  const fn = tool.function;
  const schema = fn.parameters === undefined || fn.parameters === null ? { type: 'object' as const, properties: {} } : toInputSchema(fn.parameters);
  if (!schema) throw unsupported(`tools[${i}].function.parameters`, 'Anthropic tools need an object schema at the root');
  const out: Tool = { name: fn.name as string, input_schema: schema };
  if (typeof fn.description === 'string' && fn.description !== '') out.description = fn.description;
  return out;
}

/** A JSON schema usable as `input_schema`: object-rooted (`type` added when the client left it out). */
function toInputSchema(schema: unknown): InputSchema | undefined {
  if (!isObject(schema)) return undefined;
  if (schema.type === undefined) return { ...schema, type: 'object' };
  return schema.type === 'object' ? (schema as InputSchema) : undefined;
}

function readChoice(value: unknown): ClientChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  if (isObject(value) && value.type === 'function' && isObject(value.function) && typeof value.function.name === 'string') {
    return { type: 'function', name: value.function.name };
  }
  throw unsupported('tool_choice', 'unsupported tool_choice for Anthropic');
}

function toChoice(choice: ClientChoice, noParallel: boolean): ToolChoice {
  const parallel = noParallel ? { disable_parallel_tool_use: true } : {};
  switch (choice.type) {
    case 'auto':
      return { type: 'auto', ...parallel };
    case 'required':
      return { type: 'any', ...parallel };
    case 'function':
      return { type: 'tool', name: choice.name, ...parallel };
    case 'none':
      return { type: 'none' };
    default:
      return assertNever(choice);
  }
}

function readResponseFormat(value: unknown): { schema: InputSchema; description?: string } | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw unsupported('response_format', 'must be an object');
  switch (value.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { schema: { type: 'object' } };
    case 'json_schema': {
      const spec = isObject(value.json_schema) ? value.json_schema : {};
      const schema = toInputSchema(spec.schema ?? { type: 'object' });
      if (!schema) throw unsupported('response_format.json_schema.schema', 'the emulated JSON mode needs an object schema at the root');
      return typeof spec.description === 'string' ? { schema, description: spec.description } : { schema };
    }
    default:
      throw unsupported('response_format', `response_format type '${String(value.type)}' is not supported`);
  }
}

function uniqueName(base: string, tools: readonly Tool[]): string {
  const names = new Set(tools.map((t) => t.name));
  let name = base;
  for (let n = 2; names.has(name); n++) name = `${base}_${n}`;
  return name;
}

function assertNever(value: never): never {
  throw new Error(`unknown tool choice: ${JSON.stringify(value)}`);
}
