import { describe, expect, it } from 'vitest';
import { matchesTarget, routeAllowed, routeEntryProblem, targetAllowed, targetEntryProblem } from './allow-list.js';

describe('allow-lists', () => {
  it('routes: a name matches itself only; * matches every route', () => {
    expect(routeAllowed({ routes: ['chat'] }, 'chat')).toBe(true);
    expect(routeAllowed({ routes: ['chat'] }, 'chat-premium')).toBe(false);
    expect(routeAllowed({ routes: ['chat', 'embed'] }, 'embed')).toBe(true);
    expect(routeAllowed({ routes: ['*'] }, 'anything')).toBe(true);
    expect(routeAllowed({ routes: [] }, 'chat')).toBe(false);
  });

  it('targets: exact provider/model, provider/* for every model of a provider, * for all', () => {
    expect(targetAllowed({ targets: ['openai/gpt-4o'] }, 'openai/gpt-4o')).toBe(true);
    expect(targetAllowed({ targets: ['openai/gpt-4o'] }, 'openai/gpt-4o-mini')).toBe(false);
    expect(targetAllowed({ targets: ['openai/*'] }, 'openai/gpt-4o-mini')).toBe(true);
    expect(targetAllowed({ targets: ['openai/*'] }, 'openai-eu/gpt-4o')).toBe(false);
    expect(targetAllowed({ targets: ['openai/*'] }, 'azure/openai/gpt-4o')).toBe(false);
    expect(targetAllowed({ targets: ['openai/*'] }, 'openai/')).toBe(false);
    expect(targetAllowed({ targets: ['local/*', 'openai/gpt-4o'] }, 'local/meta/llama-3')).toBe(true);
    expect(targetAllowed({ targets: ['*'] }, 'any/model')).toBe(true);
    expect(matchesTarget('openai*', 'openai/gpt-4o')).toBe(false);
  });

  it('names what is wrong with an entry', () => {
    expect(targetEntryProblem('openai/gpt-4o', ['openai'])).toBeUndefined();
    expect(targetEntryProblem('openai/*', ['openai'])).toBeUndefined();
    expect(targetEntryProblem('*', [])).toBeUndefined();
    expect(targetEntryProblem('gpt-4o', ['openai'])).toContain('is not provider/model');
    expect(targetEntryProblem('opnai/gpt-4o', ['openai'])).toContain("unknown provider 'opnai'");
    expect(routeEntryProblem('chat', ['chat'])).toBeUndefined();
    expect(routeEntryProblem('*', ['chat'])).toBeUndefined();
    expect(routeEntryProblem('caht', ['chat'])).toContain("'caht' is not a configured route");
  });
});
