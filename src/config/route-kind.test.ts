import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load.js';

const providers = {
  openai: { type: 'openai' },
  azure: { type: 'azure-openai', base_url: 'https://acme.openai.azure.com' },
  google: { type: 'gemini' },
  claude: { type: 'anthropic' },
};

function load(routes: Record<string, unknown>) {
  return parseConfig(stringify({ providers, routes }), 'routes.yaml', { env: {} });
}

function problems(routes: Record<string, unknown>): { path: string; message: string; line?: number }[] {
  try {
    load(routes);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const embeddings = (ladder: unknown[], extra: Record<string, unknown> = {}) => ({ embed: { kind: 'embeddings', ladder, ...extra } });

describe('route kinds', () => {
  it('a route is chat unless it says otherwise; embeddings routes keep their equivalences', () => {
    const config = load({
      chat: { ladder: [{ targets: 'claude/claude-sonnet-4' }, { targets: 'openai/gpt-4o' }, { static: 'busy' }] },
      ...embeddings([{ targets: ['openai/text-embedding-3-small', 'azure/embed-prod'] }], { equivalent_models: [['text-embedding-3-small', 'embed-prod']] }),
    });
    expect(config.routes.chat).toMatchObject({ kind: 'chat', equivalentModels: [] });
    expect(config.routes.embed).toMatchObject({ kind: 'embeddings', equivalentModels: [['text-embedding-3-small', 'embed-prod']] });
  });

  it.each([
    ['one model on several providers', [{ targets: ['openai/text-embedding-3-small', 'azure/text-embedding-3-small'] }, { targets: 'openai/text-embedding-3-small' }]],
    ['Gemini names with and without models/', [{ targets: 'google/text-embedding-004' }, { targets: 'google/models/text-embedding-004' }]],
  ])('accepts an embeddings ladder of %s', (_name, ladder) => {
    expect(() => load(embeddings(ladder))).not.toThrow();
  });

  it('rejects a second model without a declared equivalence, at that target, with the fix', () => {
    const found = problems(embeddings([{ targets: ['openai/text-embedding-3-small', 'azure/embed-prod'] }]));
    expect(found).toEqual([
      expect.objectContaining({
        path: 'routes.embed.ladder[0].targets[1]',
        line: expect.any(Number),
        message: expect.stringContaining('equivalent_models: [[text-embedding-3-small, embed-prod]]'),
      }),
    ]);
  });

  it('an equivalence joins only the models it names', () => {
    const found = problems(
      embeddings([{ targets: 'openai/text-embedding-3-small' }, { targets: 'azure/embed-prod' }, { targets: 'openai/text-embedding-3-large' }], {
        equivalent_models: [['text-embedding-3-small', 'embed-prod']],
      }),
    );
    expect(found.map((p) => p.path)).toEqual(['routes.embed.ladder[2].targets']);
  });

  it('rejects a static rung and a provider without embeddings on an embeddings route', () => {
    const found = problems(embeddings([{ targets: 'claude/claude-sonnet-4' }, { static: 'no vector here' }]));
    expect(found.map((p) => p.path)).toEqual(['routes.embed.ladder[0].targets', 'routes.embed.ladder[1].static']);
    expect(found[0]?.message).toContain('anthropic, which has no embeddings API');
    expect(found[1]?.message).toContain('cannot have a static rung');
  });

  it('rejects a model in two groups, a model twice in a group, and a group of one', () => {
    const found = problems(
      embeddings([{ targets: 'openai/a' }], {
        equivalent_models: [
          ['a', 'b'],
          ['b', 'c', 'c'],
        ],
      }),
    );
    expect(found.map((p) => p.path)).toEqual(['routes.embed.equivalent_models[1][0]', 'routes.embed.equivalent_models[1][2]']);
    expect(problems(embeddings([{ targets: 'openai/a' }], { equivalent_models: [['a']] }))[0]).toMatchObject({
      path: 'routes.embed.equivalent_models[0]',
      message: 'a group names at least two models',
    });
  });

  it('rejects equivalent_models on a chat route and an unknown kind', () => {
    expect(problems({ chat: { ladder: [{ targets: 'openai/gpt-4o' }], equivalent_models: [['gpt-4o', 'gpt-4.1']] } })).toEqual([
      expect.objectContaining({ path: 'routes.chat.equivalent_models', message: expect.stringContaining('only embeddings routes') }),
    ]);
    expect(problems({ r: { kind: 'rerank', ladder: [{ targets: 'openai/x' }] } })[0]?.path).toBe('routes.r.kind');
  });
});
