import type { Answer, SimRequest, ToolCall, ToolSpec } from './dialect.js';
import type { JsonScenario, ToolCallScenario } from './scenario.js';
import { continuedText } from './continuing.js';
import { DEFAULT_TEXT } from './payloads.js';
import { sampleArguments, sampleFromSchema } from './schema-sample.js';

/** What the model answers, decided once per request and identical in every format. */

export const DEFAULT_JSON: Record<string, unknown> = { ok: true };

function findTool(req: SimRequest, name: string | undefined): ToolSpec | undefined {
  return name === undefined ? req.tools[0] : req.tools.find((t) => t.name === name);
}

/** The tool a forcing request wants called, if the request forces one it offers. */
function forcedToolCall(req: SimRequest, args?: (tool: ToolSpec) => Record<string, unknown>): ToolCall | undefined {
  if (!req.forcedTool) return undefined;
  const tool = findTool(req, req.forcedTool.name);
  if (!tool) return undefined;
  return { name: tool.name, arguments: args ? args(tool) : sampleArguments(tool.parameters) };
}

/** `ok`: the text, or a tool call when the request forces one. */
export function textAnswer(req: SimRequest, text: string): Answer {
  const call = forcedToolCall(req);
  return call ? { kind: 'message', text: '', toolCall: call } : { kind: 'message', text: continuedText(text, req.continuing) };
}

/** `tool_call`: a call to the named (or first offered) tool; plain text when there is nothing to call. */
export function toolCallAnswer(req: SimRequest, s: ToolCallScenario): Answer {
  const name = s.name ?? req.forcedTool?.name;
  const tool = findTool(req, name);
  const callName = name ?? tool?.name;
  if (callName === undefined) return { kind: 'message', text: s.text ?? DEFAULT_TEXT };
  return {
    kind: 'message',
    text: s.text ?? '',
    toolCall: { name: callName, arguments: s.arguments ?? sampleArguments(tool?.parameters) },
  };
}

/** `json`: JSON valid for the request's schema, as text or (tool-forcing requests) as tool arguments. */
export function jsonAnswer(req: SimRequest, s: JsonScenario): Answer {
  const fallback = s.value ?? DEFAULT_JSON;
  const call = forcedToolCall(req, (tool) => (tool.parameters !== undefined ? sampleArguments(tool.parameters) : fallback));
  if (call) return { kind: 'message', text: '', toolCall: call };
  const schema = req.json?.schema;
  return { kind: 'message', text: JSON.stringify(schema !== undefined ? sampleFromSchema(schema) : fallback) };
}

/** The characters an answer's output tokens are estimated from (tool calls: name + arguments). */
export function answerText(answer: Answer): string {
  if (answer.kind === 'refusal') return '';
  const call = answer.toolCall ? answer.toolCall.name + JSON.stringify(answer.toolCall.arguments) : '';
  return answer.text + call;
}
