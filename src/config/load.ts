import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatPath, type ConfigProblem } from './config-error.js';
import { protectEnvRefs, substituteEnv, type EnvProblem } from './env.js';
import type { FileRefOptions } from './file-ref.js';
import { resolveConfig } from './resolve.js';
import { configSchema } from './schema.js';
import type { Config } from './types.js';

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** Where a relative `${file:...}` is read from; the config file's directory (`loadConfigFile`), else the working directory. */
  baseDir?: string;
  /** Called with the absolute path of every `${file:...}` reference (the credential watcher watches them). */
  onFileRef?: FileRefOptions['onFileRef'];
}

/** Reads, parses, validates and resolves a config file. Throws ConfigError with every problem found. */
export function loadConfigFile(path: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ConfigError(path, [{ path: '(file)', message: reason }]);
  }
  return parseConfig(text, path, { baseDir: dirname(resolve(path)), ...options });
}

/** Parses config text. `source` names it in errors. */
export function parseConfig(text: string, source: string, options: LoadOptions = {}): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(protectEnvRefs(text), { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: '(yaml)', line: pos.line, column: pos.col, message: e.message.split('\n')[0] ?? e.message };
      }),
    );
  }
  const locate = (path: readonly PropertyKey[]): Pick<ConfigProblem, 'line' | 'column'> => locateNode(doc, lineCounter, path);

  const envProblems: EnvProblem[] = [];
  const files: FileRefOptions = { baseDir: options.baseDir ?? process.cwd(), onFileRef: options.onFileRef };
  const raw = substituteEnv(doc.toJS() ?? {}, options.env ?? process.env, envProblems, [], files);
  if (envProblems.length > 0) {
    throw new ConfigError(
      source,
      envProblems.map((p) => ({ path: formatPath(p.path), ...locate(p.path), message: p.message })),
    );
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(source, parsed.error.issues.map((issue) => zodProblem(issue, locate)));
  }
  const resolved = resolveConfig(parsed.data, source, files.baseDir);
  if (resolved.problems.length > 0) {
    throw new ConfigError(
      source,
      resolved.problems.map((p) => ({ path: formatPath(p.path), ...locate(p.path), message: p.message })),
    );
  }
  return resolved.config;
}

function zodProblem(issue: z.core.$ZodIssue, locate: (path: readonly PropertyKey[]) => Pick<ConfigProblem, 'line' | 'column'>): ConfigProblem {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return {
      path: formatPath([...path, key]),
      ...locate([...path, key]),
      message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`,
    };
  }
  return { path: formatPath(path), ...locate(path), message: issue.message };
}

/** Line/column of the deepest node that exists along `path` (a missing key points at its parent). */
function locateNode(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): Pick<ConfigProblem, 'line' | 'column'> {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}
