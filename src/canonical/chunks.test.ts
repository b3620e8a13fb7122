import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatResponse } from './chat.js';
import { ChunkAssembler, responseToChunks } from './chunks.js';

const chunk = (delta: ChatChunk['choices'][number]['delta'], finish: 'stop' | 'tool_calls' | null = null): ChatChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe('ChunkAssembler and responseToChunks', () => {
  it('round-trips text, reasoning, signed thinking blocks, tool calls and usage', () => {
    const response: ChatResponse = {
      id: 'c',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Answer',
            refusal: null,
            reasoning_content: 'Let me think',
            thinking_blocks: [{ type: 'thinking', thinking: 'Let me think', signature: 'sig' }],
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    };
    const assembler = new ChunkAssembler();
    for (const c of responseToChunks(response, true)) assembler.add(c);
    expect(assembler.result()).toEqual(response);
  });

  it('joins streamed tool-call fragments by index and thinking blocks in order', () => {
    const assembler = new ChunkAssembler();
    assembler.add(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get', arguments: '' } }] }));
    assembler.add(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
    assembler.add(chunk({ thinking_blocks: [{ type: 'thinking', signature: 's1' }] }));
    assembler.add(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
    assembler.add(chunk({}, 'tool_calls'));
    const message = assembler.result().choices[0]?.message;
    expect(message?.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"city":"Paris"}' } }]);
    expect(message?.content).toBeNull();
    expect(message?.thinking_blocks).toEqual([{ type: 'thinking', signature: 's1' }]);
  });
});
