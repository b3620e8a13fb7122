import { describe, expect, it } from 'vitest';
import type { ChatChunk, ToolCallDelta } from '../canonical/chat.js';
import { ToolCallGate } from './tool-call-gate.js';

function text(content: string): ChatChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content } }] };
}
function call(delta: ToolCallDelta, finish: 'tool_calls' | null = null): ChatChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [delta] }, finish_reason: finish }] };
}

describe('ToolCallGate', () => {
  it('passes text straight through', () => {
    const gate = new ToolCallGate();
    expect(gate.push(text('hi'))).toHaveLength(1);
  });

  it('holds a call until its arguments are complete JSON, then releases every held chunk in order', () => {
    const gate = new ToolCallGate();
    expect(gate.push(call({ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }))).toEqual([]);
    expect(gate.push(call({ index: 0, function: { arguments: '{"city":' } }))).toEqual([]);
    expect(gate.push(text('interleaved'))).toEqual([]); // order is kept while a call is held
    const out = gate.push(call({ index: 0, function: { arguments: '"Oslo"}' } }));
    expect(out).toHaveLength(4);
    expect(gate.push(text('after'))).toHaveLength(1);
  });

  it('holds parallel calls until every started call is complete', () => {
    const gate = new ToolCallGate();
    expect(gate.push(call({ index: 0, id: 'a', function: { name: 'f', arguments: '{}' } }))).toHaveLength(1);
    expect(gate.push(call({ index: 1, id: 'b', function: { name: 'g', arguments: '{"x":' } }))).toEqual([]);
    expect(gate.push(call({ index: 1, function: { arguments: '1}' } }))).toHaveLength(2);
  });

  it('never treats a brace inside a string as the end', () => {
    const gate = new ToolCallGate();
    expect(gate.push(call({ index: 0, id: 'a', function: { name: 'f', arguments: '{"q":"}' } }))).toEqual([]);
    expect(gate.push(call({ index: 0, function: { arguments: '"}' } }))).toHaveLength(2);
  });

  it('releases at the finish reason or the end of the stream, complete or not (the upstream finished it)', () => {
    const gate = new ToolCallGate();
    gate.push(call({ index: 0, id: 'a', function: { name: 'f', arguments: '{"x":' } }));
    expect(gate.push(call({ index: 0, function: { arguments: '' } }, 'tool_calls'))).toHaveLength(2);
    const other = new ToolCallGate();
    other.push(call({ index: 0, id: 'a', function: { name: 'f', arguments: '{"x":' } }));
    expect(other.end()).toHaveLength(1);
  });
});
