import { TranslationError } from './media.js';
import type { GeminiFunctionDeclaration, GeminiTool, GeminiToolConfig } from './wire.js';

interface FunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: unknown };
}

/**
 * OpenAI function tools → one Gemini tool of function declarations. The JSON Schema goes in
 * `parametersJsonSchema` untouched (Gemini's full JSON Schema field), not in the OpenAPI-subset
 * `parameters`, so nothing is stripped or rewritten. With `tool_choice: {type:'allowed_tools'}`
 * only the allowed functions are declared — Gemini's `allowedFunctionNames` works in ANY mode only.
 */
export function toTools(tools: unknown[] | undefined, toolChoice: unknown): GeminiTool[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const allowed = allowedNames(toolChoice);
  const declarations: GeminiFunctionDeclaration[] = [];
  tools.forEach((tool, i) => {
    const fn = asFunctionTool(tool, `tools[${i}]`).function;
    if (allowed && !allowed.has(fn.name)) return;
    // `description` is REQUIRED in the proto (and the strict schema): empty when the client gave none.
    const declaration: GeminiFunctionDeclaration = { name: fn.name, description: typeof fn.description === 'string' ? fn.description : '' };
    if (typeof fn.parameters === 'object' && fn.parameters !== null) declaration.parametersJsonSchema = fn.parameters;
    declarations.push(declaration);
  });
  return declarations.length > 0 ? [{ functionDeclarations: declarations }] : undefined;
}

/** `tool_choice` → `functionCallingConfig`: auto → AUTO, none → NONE, required → ANY, a named function → ANY + allowedFunctionNames. */
export function toToolConfig(toolChoice: unknown): GeminiToolConfig | undefined {
  if (toolChoice === undefined || toolChoice === null) return undefined;
  if (toolChoice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (toolChoice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (toolChoice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (typeof toolChoice === 'object') {
    const choice = toolChoice as { type?: unknown; function?: { name?: unknown }; allowed_tools?: { mode?: unknown } };
    if (choice.type === 'function' && typeof choice.function?.name === 'string') {
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
    }
    if (choice.type === 'allowed_tools') {
      const mode = choice.allowed_tools?.mode;
      if (mode === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
      if (mode === 'required') return { functionCallingConfig: { mode: 'ANY' } };
    }
  }
  throw new TranslationError('unsupported_parameter', 'tool_choice', `tool_choice ${JSON.stringify(toolChoice)} is not supported by Gemini`);
}

function allowedNames(toolChoice: unknown): Set<string> | undefined {
  if (typeof toolChoice !== 'object' || toolChoice === null) return undefined;
  const choice = toolChoice as { type?: unknown; allowed_tools?: { tools?: unknown } };
  if (choice.type !== 'allowed_tools' || !Array.isArray(choice.allowed_tools?.tools)) return undefined;
  const names = new Set<string>();
  for (const tool of choice.allowed_tools.tools as { function?: { name?: unknown } }[]) {
    if (typeof tool?.function?.name === 'string') names.add(tool.function.name);
  }
  return names;
}

function asFunctionTool(tool: unknown, param: string): FunctionTool {
  const t = tool as { type?: unknown; function?: { name?: unknown } } | null;
  if (t?.type !== 'function') {
    throw new TranslationError('unsupported_parameter', `${param}.type`, `tool type '${String(t?.type)}' is not supported by Gemini`);
  }
  if (typeof t.function?.name !== 'string' || !t.function.name) {
    throw new TranslationError('invalid_request', `${param}.function.name`, `'${param}.function.name' is required`);
  }
  return t as FunctionTool;
}
