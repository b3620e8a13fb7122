/**
 * `${env:NAME}` (and `${env:NAME:-default}`) in string values, replaced after YAML parsing so a
 * secret's characters can never change the document's structure.
 */
const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

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
