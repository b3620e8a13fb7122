/**
 * `${env:NAME}` (and `${env:NAME:-default}`) and `${file:PATH}` (file-ref.ts) in string values,
 * replaced after YAML parsing so a secret's characters can never change the document's structure.
 *
 * YAML treats `{` and `}` as flow indicators, so `api_key: ${env:KEY}` inside a flow map
 * (`{ type: openai, api_key: ${env:KEY} }`) would not parse. Before parsing, each reference's
 * braces are swapped for two private-use characters of the same length (lines and columns stay
 * true); after parsing, the marked references are resolved.
 */
import { fileRefPath, readSecretFile, type FileRefOptions } from './file-ref.js';

const OPEN = '\uE000';
const CLOSE = '\uE001';
const SOURCE_REF = /\$\{(env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}\n]*)?|file:[^}\n]+)\}/g;
const REF = /\$\uE000(?:env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^\uE001]*))?|file:([^\uE001]+))\uE001/g;

/** Marks every `${env:...}` and `${file:...}` in config text so YAML reads it as a plain scalar. */
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
  files: FileRefOptions = { baseDir: process.cwd() },
): unknown {
  if (typeof value === 'string') {
    return value.replace(REF, (_match, name: string | undefined, fallback: string | undefined, file: string | undefined) => {
      if (name === undefined) return fileRef(file ?? '', files, problems, path);
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set (referenced as \${env:${name}})` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, problems, [...path, i], files));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, problems, [...path, key], files);
    return out;
  }
  return value;
}

/** One `${file:...}`: the file's trimmed content, or a problem naming the path (never the content). */
function fileRef(ref: string, files: FileRefOptions, problems: EnvProblem[], path: (string | number)[]): string {
  const absPath = fileRefPath(ref.trim(), files.baseDir);
  files.onFileRef?.(absPath);
  const read = (files.read ?? readSecretFile)(absPath);
  if (read.ok) return read.value;
  problems.push({ path, message: `${read.reason} (referenced as \${file:${ref}})` });
  return '';
}
