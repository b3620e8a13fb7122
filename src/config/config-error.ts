/** One problem in a config file, located as precisely as the file allows. */
export interface ConfigProblem {
  /** Dotted path, e.g. `routes.chat.ladder[0].targets[0]`. */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

/** A config that cannot be used. Its message names the file, each problem's line and path, and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(formatProblems(source, problems));
    this.name = 'ConfigError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

function formatProblems(source: string, problems: ConfigProblem[]): string {
  const lines = problems.map((p) => {
    const where = p.line !== undefined ? `${source}:${p.line}:${p.column ?? 1}` : source;
    return `  ${where}  ${p.path}: ${p.message}`;
  });
  return `Invalid config ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}
