import { describe, expect, it } from 'vitest';
import { classifyTransportError } from './transport-errors.js';

describe('classifyTransportError', () => {
  const err = (code: string) => Object.assign(new Error(`boom ${code}`), { code });

  it('classifies by code, never by message', () => {
    expect(classifyTransportError(err('ECONNREFUSED'), false, []).kind).toBe('connection');
    expect(classifyTransportError(err('ECONNRESET'), false, []).kind).toBe('connection');
    expect(classifyTransportError(err('ENOTFOUND'), false, []).kind).toBe('connection');
    expect(classifyTransportError(err('UND_ERR_SOCKET'), false, []).kind).toBe('connection');
    expect(classifyTransportError(Object.assign(new Error('x'), { cause: err('ECONNRESET') }), false, []).code).toBe('ECONNRESET');
  });

  it('a transport error once the body has begun is a cut stream', () => {
    expect(classifyTransportError(err('UND_ERR_SOCKET'), true, []).kind).toBe('stream_cut');
  });
});
