import { describe, expect, it } from 'vitest';
import { issueKey } from '../keys/key-spec.js';
import { modelDenied, presentedKey } from './auth.js';

describe('presentedKey', () => {
  it('reads Authorization: Bearer or x-api-key; a virtual key wins when both are sent', () => {
    expect(presentedKey({ authorization: 'Bearer usk_a' })).toBe('usk_a');
    expect(presentedKey({ authorization: 'bearer   usk_a' })).toBe('usk_a');
    expect(presentedKey({ 'x-api-key': 'usk_b' })).toBe('usk_b');
    expect(presentedKey({ authorization: 'Bearer sk-proxy-token', 'x-api-key': 'usk_b' })).toBe('usk_b');
    expect(presentedKey({ authorization: 'Bearer usk_a', 'x-api-key': 'usk_b' })).toBe('usk_a');
    expect(presentedKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(presentedKey({ 'x-api-key': '  ' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });
});

describe('modelDenied', () => {
  const catalog = { hasRoute: (name: string) => name === 'chat' || name === 'other' };
  const { record } = issueKey({ name: 'k', routes: ['chat'], targets: ['openai/*'] }, 0);

  it('checks a route name against routes and anything else against targets, then every fallback', () => {
    expect(modelDenied(record, 'chat', [], catalog)).toBeUndefined();
    expect(modelDenied(record, 'other', [], catalog)).toMatchObject({ status: 403, code: 'route_not_allowed', param: 'model' });
    expect(modelDenied(record, 'openai/gpt-4o', [], catalog)).toBeUndefined();
    expect(modelDenied(record, 'azure/gpt-4o', [], catalog)).toMatchObject({ status: 403, code: 'model_not_allowed' });
    expect(modelDenied(record, 'chat', ['openai/gpt-4o', 'azure/gpt-4o'], catalog)).toMatchObject({ status: 403, param: 'fallback_models[1]' });
  });
});
