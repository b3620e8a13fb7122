import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MessageAccumulator } from './message-accumulator.js';

const FIXTURES = new URL('../../../../shared/conformance/fixtures/anthropic/', import.meta.url);

function accumulate(file: string): Record<string, unknown> | undefined {
  const acc = new MessageAccumulator();
  for (const block of readFileSync(new URL(file, FIXTURES), 'utf8').split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (data) acc.add(JSON.parse(data) as Record<string, unknown>);
  }
  return acc.result();
}

describe('MessageAccumulator (native message for pass-through)', () => {
  it('rebuilds text, stop reason and cumulative usage', () => {
    const message = accumulate('sdk-typescript/basic_response.sse');
    expect(message).toMatchObject({ type: 'message', role: 'assistant', stop_reason: expect.any(String) });
    const content = message?.content as { type: string; text?: string }[];
    expect(content.every((b) => b.type === 'text' && typeof b.text === 'string' && b.text.length > 0)).toBe(true);
    expect((message?.usage as { output_tokens: number }).output_tokens).toBeGreaterThan(1);
  });

  it('parses tool_use input from its JSON deltas and keeps the block id', () => {
    const message = accumulate('sdk-typescript/tool_use_response.sse');
    const tool = (message?.content as { type: string; id?: string; input?: unknown }[]).find((b) => b.type === 'tool_use');
    expect(tool?.id).toMatch(/^toolu_/);
    expect(typeof tool?.input).toBe('object');
    expect(Object.keys(tool?.input as object).length).toBeGreaterThan(0);
    expect(message?.stop_reason).toBe('tool_use');
  });

  it('keeps a refusal as the provider sent it', () => {
    const message = accumulate('sdk-python/refusal_response.sse');
    expect(message?.stop_reason).toBe('refusal');
  });
});

describe('MessageAccumulator keeps signed thinking', () => {
  it('keeps the thinking text and its signature (stream-a-refusal has a signature_delta)', () => {
    const message = accumulate('sdk-typescript/stream-a-refusal.sse');
    const thinking = (message?.content as { type: string; signature?: string; thinking?: string }[]).find((b) => b.type === 'thinking');
    expect(thinking?.signature?.length).toBeGreaterThan(0);
  });
});
