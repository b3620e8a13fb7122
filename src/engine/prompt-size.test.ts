import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical/chat.js';
import { countTokens, measurePrompt, overflow, promptText, SKIP_MARGIN } from './prompt-size.js';

const req = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content }], ...extra });

describe('prompt size', () => {
  it('counts message text, tool-call arguments and tool definitions', () => {
    const texts = promptText({
      model: 'm',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: [{ type: 'text', text: 'part' }, { type: 'image_url', image_url: { url: 'data:x' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    });
    expect(texts).toEqual(['sys', 'part', 'f', '{"a":1}', '[{"type":"function","function":{"name":"f"}}]']);
  });

  it('does not tokenize when the byte bound already fits the smallest window', async () => {
    const size = await measurePrompt(req('hello world'), 1_000);
    expect(size.tokens).toBeUndefined();
    expect(size.bytes).toBeGreaterThanOrEqual(11);
    expect((await measurePrompt(req('x'.repeat(5_000)), undefined)).tokens).toBeUndefined();
  });

  it('tokenizes (o200k) when the bound does not fit; the count is far below the byte bound for English', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(200);
    const size = await measurePrompt(req(text), 1_000);
    expect(size.tokens).toBeGreaterThan(1_500);
    expect(size.tokens).toBeLessThan(size.bytes / 3);
    expect(await countTokens([text], 1)).toBe(size.tokens);
  });

  it('skips only when the count lowered by the margin still overflows', () => {
    const size = { bytes: 40_000, tokens: 10_000 };
    expect(overflow(size, 0, undefined)).toBeUndefined();
    expect(overflow(size, 0, 50_000)).toBeUndefined(); // bytes fit
    expect(overflow(size, 1_000, Math.floor(10_000 * (1 - SKIP_MARGIN)) + 1_000)).toBeUndefined();
    expect(overflow(size, 1_000, 8_000)).toMatch(/about 10000 tokens.*8000-token context window/);
    expect(overflow({ bytes: 40_000 }, 0, 8_000)).toBeUndefined(); // never skip on a guess
  });
});
