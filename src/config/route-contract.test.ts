import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load.js';

function problemsOf(text: string): ConfigError {
  try {
    parseConfig(text, 'test.yaml', { env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const providers = `providers:
  primary: { type: openai, base_url: https://api.openai.com/v1 }
  strong: { type: openai, base_url: https://api.openai.com/v1 }
`;

describe('routes.<r>.contract and contract_violation_to', () => {
  it('loads a contract: keys as written, stream defaulting to pass; the violation rung by name or index', () => {
    const config = parseConfig(
      `${providers}routes:
  extract:
    contract:
      finish_reasons: [stop]
      min_length: 2
      regex: "/^\\\\{/s"
      json_schema: { type: object, required: [id] }
    contract_violation_to: strong
    ladder:
      - targets: primary/gpt-4o-mini
      - targets: primary/gpt-4o
      - name: strong
        targets: strong/o3
  summary:
    contract: { min_length: 40, stream: buffer }
    contract_violation_to: 1
    ladder:
      - targets: primary/gpt-4o-mini
      - targets: strong/o3
  plain:
    ladder:
      - targets: primary/gpt-4o
`,
      'test.yaml',
      { env: {} },
    );
    expect(config.routes.extract?.contract).toEqual({
      finishReasons: ['stop'],
      minLength: 2,
      regex: '/^\\{/s',
      jsonSchema: { type: 'object', required: ['id'] },
      stream: 'pass',
    });
    expect(config.routes.extract?.policy.contractViolationRung).toBe(2);
    expect(config.routes.summary?.contract?.stream).toBe('buffer');
    expect(config.routes.summary?.policy.contractViolationRung).toBe(1);
    expect(config.routes.plain?.contract).toBeUndefined();
    expect(config.routes.plain?.policy.contractViolationRung).toBeUndefined();
  });

  it('a regex that does not compile is a config error at its line', () => {
    const error = problemsOf(`${providers}routes:
  chat:
    contract:
      regex: "([a-z]+"
    ladder:
      - targets: primary/gpt-4o
`);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ path: 'routes.chat.contract.regex', line: 7 });
    expect(error.problems[0]?.message).toMatch(/^not a valid regular expression: /);
    expect(error.message).toContain('test.yaml:7:');
  });

  it('a JSON schema that does not compile is a config error at its line', () => {
    const error = problemsOf(`${providers}routes:
  chat:
    contract:
      json_schema:
        type: objekt
    ladder:
      - targets: primary/gpt-4o
`);
    expect(error.problems[0]).toMatchObject({ path: 'routes.chat.contract.json_schema', line: 8 });
    expect(error.problems[0]?.message).toMatch(/^not a valid JSON Schema: /);
  });

  it('unknown keys, finish reasons and stream modes are rejected by the schema', () => {
    const error = problemsOf(`${providers}routes:
  chat:
    contract:
      finish_reasons: [done]
      stream: hold
      max_length: 3
    ladder:
      - targets: primary/gpt-4o
`);
    expect(error.problems.map((p) => p.path).sort()).toEqual(['routes.chat.contract.finish_reasons[0]', 'routes.chat.contract.max_length', 'routes.chat.contract.stream']);
  });

  it('contract_violation_to must name a later live rung of the route', () => {
    const ladder = `    ladder:
      - name: cheap
        targets: primary/gpt-4o-mini
      - name: strong
        targets: strong/o3
      - static: Sorry.
`;
    const cases: [string, string][] = [
      ['stronger', "no rung is named 'stronger' (named rungs: cheap, strong)"],
      ['5', 'rung 5 does not exist (the ladder has 3 rungs)'],
      ['2', 'rung 2 is a static rung; name a live rung (a stronger model)'],
      ['0', 'rung 0 is where every request starts; name a later, stronger rung'],
      ['cheap', 'rung 0 is where every request starts; name a later, stronger rung'],
    ];
    for (const [to, message] of cases) {
      const error = problemsOf(`${providers}routes:\n  chat:\n    contract_violation_to: ${to}\n${ladder}`);
      expect(error.problems, to).toEqual([{ path: 'routes.chat.contract_violation_to', line: 6, column: 28, message }]);
    }
  });

  it('rung names are unique in a route', () => {
    const error = problemsOf(`${providers}routes:
  chat:
    ladder:
      - { name: a, targets: primary/gpt-4o-mini }
      - { name: a, targets: strong/o3 }
`);
    expect(error.problems[0]).toMatchObject({ path: 'routes.chat.ladder[1].name', message: "rung name 'a' is already used by rung 0" });
  });

  it('embeddings routes have no output contract', () => {
    const error = problemsOf(`${providers}routes:
  embed:
    kind: embeddings
    contract: { min_length: 1 }
    ladder:
      - targets: primary/text-embedding-3-small
`);
    expect(error.problems).toEqual([expect.objectContaining({ path: 'routes.embed.contract', message: 'only chat routes have an output contract' })]);
  });
});
