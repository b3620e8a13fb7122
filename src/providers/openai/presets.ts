import type { CompatPreset } from '../registry.js';
import type { Capabilities } from '../target.js';

export interface CompatPresetInfo {
  /** The server's public OpenAI-compatible base URL (what `/chat/completions` is appended to). */
  baseUrl: string;
  /** What differs from OpenAI, for operators reading `understudy check` output or the docs. */
  notes: string;
  /** Capability defaults over OpenAI's; config overrides per model still win. */
  capabilities?: Partial<Capabilities>;
}

/**
 * What Understudy knows of each OpenAI-compatible server. The wire quirks listed in `notes` are
 * normalised for every OpenAI-wire stream (see `normalise.ts`): each rule only fills in what is
 * missing or pins what drifts, so it is harmless on servers that do not need it. What a preset
 * does select is the capability defaults: where support depends on the model, the default is
 * the conservative `false` and config enables it per model.
 */
export const COMPAT_PRESET_INFO: Record<CompatPreset, CompatPresetInfo> = {
  mistral: {
    baseUrl: 'https://api.mistral.ai/v1',
    notes:
      'Streamed tool calls arrive whole in one delta without index/type, on the finish chunk with inline usage; ' +
      'non-stream tool_calls lack type, no logprobs/refusal. Images only on pixtral/mistral-small-2503+/medium models.',
    capabilities: { vision: false },
  },
  deepseek: {
    baseUrl: 'https://api.deepseek.com/v1',
    notes: 'reasoning_content deltas (deepseek-reasoner); usage on the finish chunk; no image input; JSON mode is json_object only.',
    capabilities: { vision: false, jsonSchema: false },
  },
  xai: {
    baseUrl: 'https://api.x.ai/v1',
    notes: 'Omits finish_reason on intermediate chunks; created changes mid-stream; reasoning_content on grok-3-mini. Images model-dependent.',
    capabilities: { vision: false },
  },
  groq: {
    baseUrl: 'https://api.groq.com/openai/v1',
    notes: 'created changes mid-stream; usage (and x_groq) on the finish chunk; service_tier "on_demand". Structured outputs and images model-dependent.',
    capabilities: { vision: false, jsonSchema: false },
  },
  together: {
    baseUrl: 'https://api.together.xyz/v1',
    notes: 'Tools, structured outputs and images depend on the model.',
    capabilities: { vision: false, jsonSchema: false },
  },
  fireworks: {
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    notes: 'Tools, structured outputs and images depend on the model.',
    capabilities: { vision: false, jsonSchema: false },
  },
  openrouter: {
    baseUrl: 'https://openrouter.ai/api/v1',
    notes: 'A router: capabilities are those of the routed model; requests a model cannot serve are rejected (4xx).',
    capabilities: { vision: false, jsonSchema: false },
  },
  ollama: {
    baseUrl: 'http://127.0.0.1:11434/v1',
    notes: 'Local server; capabilities depend on the pulled model. No API key needed.',
    capabilities: { vision: false, jsonSchema: false },
  },
  vllm: {
    baseUrl: 'http://127.0.0.1:8000/v1',
    notes: 'Local server; tool calling needs a tool parser configured on the server; images depend on the model.',
    capabilities: { vision: false, jsonSchema: false },
  },
};
