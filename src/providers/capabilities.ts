import type { Capabilities } from './target.js';

/** What a model is known to support, as configured per provider and model. Unset fields keep the adapter's default. */
export type CapabilityOverrides = Partial<Capabilities>;

/**
 * Context windows and output limits of widely used models, by model-name prefix (longest match
 * wins). Only used when config does not say; an unknown model has unknown limits.
 */
const KNOWN_LIMITS: [prefix: string, context: number, output: number][] = [
  ['gpt-4o-mini', 128_000, 16_384],
  ['gpt-4o', 128_000, 16_384],
  ['gpt-4.1', 1_047_576, 32_768],
  ['gpt-4-turbo', 128_000, 4_096],
  ['gpt-3.5-turbo', 16_385, 4_096],
  ['o1', 200_000, 100_000],
  ['o3', 200_000, 100_000],
  ['o4-mini', 200_000, 100_000],
  ['claude-3-5-haiku', 200_000, 8_192],
  ['claude-3-5-sonnet', 200_000, 8_192],
  ['claude-3-7-sonnet', 200_000, 64_000],
  ['claude-3-haiku', 200_000, 4_096],
  ['claude-3-opus', 200_000, 4_096],
  ['claude-sonnet-4', 200_000, 64_000],
  ['claude-opus-4', 200_000, 32_000],
  ['claude-haiku-4', 200_000, 64_000],
  ['gemini-1.5-flash', 1_048_576, 8_192],
  ['gemini-1.5-pro', 2_097_152, 8_192],
  ['gemini-2.0-flash', 1_048_576, 8_192],
  ['gemini-2.5-flash', 1_048_576, 65_536],
  ['gemini-2.5-pro', 1_048_576, 65_536],
  ['gemini-3', 1_048_576, 65_536],
  ['mistral-large', 131_072, 8_192],
  ['mistral-small', 32_768, 8_192],
  ['deepseek-chat', 65_536, 8_192],
  ['deepseek-reasoner', 65_536, 32_768],
];

/** The adapter's defaults, then the known limits of the model, then config overrides. */
export function capabilitiesFor(model: string, defaults: Capabilities, overrides: CapabilityOverrides | undefined): Capabilities {
  const out: Capabilities = { ...defaults };
  let best: (typeof KNOWN_LIMITS)[number] | undefined;
  for (const entry of KNOWN_LIMITS) {
    if (model.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  if (best) {
    out.maxContextTokens = best[1];
    out.maxOutputTokens = best[2];
  }
  if (overrides) {
    for (const [key, value] of Object.entries(overrides) as [keyof Capabilities, Capabilities[keyof Capabilities]][]) {
      if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}
