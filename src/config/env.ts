/**
 * `${env:NAME}` (and `${env:NAME:-default}`) in string values, replaced after YAML parsing so a
 * secret's characters can never change the document's structure.
 *
 * YAML treats `{` and `}` as flow indicators, so `api_key: ${env:KEY}` inside a flow map
 * (`{ type: openai, api_key: ${env:KEY} }`) would not parse. Before parsing, each reference's
 * braces are swapped for two private-use characters of the same length (lines and columns stay
 * true); after parsing, the marked references are resolved.
 */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SOURCE_REF = /\$\{(env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}\n]*)?)\}/g;
const ENV_REF = /\$\uE000env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^\uE001]*))?\uE001/g;

/** Marks every `${env:...}` in config text so YAML reads it as a plain scalar. */
export function protectEnvRefs(text: string): string {
  return text.replace(SOURCE_REF, `$${OPEN}$1${CLOSE}`);
}

export interface EnvProblem {
  path: (string | number)[];
  message: string;
}

export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  problems: EnvProblem[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set (referenced as \${env:${name}})` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, problems, [...path, key]);
    return out;
  }
  return value;
}
