/**
 * An independent reading of a recorded Anthropic stream, written the way the conformance
 * validator (validate-anthropic.mjs) accumulates a Message, for comparing with the adapter's
 * chunks. Deliberately naive: split on blank lines, JSON.parse each data line.
 */
export interface ReferenceAnswer {
  text: string;
  thinking: string;
  signatures: string[];
  tools: { id: string; name: string; partialJson: string }[];
  stopReason: string | null;
  usage: Record<string, number>;
  error?: { type: string; message: string };
  stopped: boolean;
}

interface RawEvent {
  type: string;
  index?: number;
  message?: { usage?: Record<string, unknown> };
  content_block?: { type: string; id?: string; name?: string; text?: string };
  delta?: { type?: string; text?: string; partial_json?: string; thinking?: string; signature?: string; stop_reason?: string | null };
  usage?: Record<string, unknown>;
  error?: { type: string; message: string };
}

export function referenceAnswer(sse: string): ReferenceAnswer {
  const out: ReferenceAnswer = { text: '', thinking: '', signatures: [], tools: [], stopReason: null, usage: {}, stopped: false };
  const blocks = new Map<number, string>();
  const toolAt = new Map<number, ReferenceAnswer['tools'][number]>();
  let started = false;
  for (const frame of sse.replace(/\r\n?/g, '\n').split('\n\n')) {
    const data = frame
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trim())
      .join('\n');
    if (!data) continue;
    const event = JSON.parse(data) as RawEvent;
    const index = event.index ?? -1;
    switch (event.type) {
      case 'message_start':
        if (started) break;
        started = true;
        Object.assign(out.usage, numbers(event.message?.usage));
        break;
      case 'content_block_start':
        blocks.set(index, event.content_block?.type ?? '');
        if (event.content_block?.type === 'text') out.text += event.content_block.text ?? '';
        if (event.content_block?.type === 'tool_use') {
          const tool = { id: event.content_block.id ?? '', name: event.content_block.name ?? '', partialJson: '' };
          out.tools.push(tool);
          toolAt.set(index, tool);
        }
        break;
      case 'content_block_delta': {
        const d = event.delta ?? {};
        if (d.type === 'text_delta' && blocks.get(index) === 'text') out.text += d.text ?? '';
        if (d.type === 'thinking_delta') out.thinking += d.thinking ?? '';
        if (d.type === 'signature_delta') out.signatures.push(d.signature ?? '');
        if (d.type === 'input_json_delta') {
          const tool = toolAt.get(index);
          if (tool) tool.partialJson += d.partial_json ?? '';
        }
        break;
      }
      case 'message_delta':
        out.stopReason = event.delta?.stop_reason ?? out.stopReason;
        Object.assign(out.usage, numbers(event.usage));
        break;
      case 'message_stop':
        out.stopped = true;
        return out;
      case 'error':
        if (event.error) out.error = event.error;
        return out;
    }
  }
  return out;
}

function numbers(value: Record<string, unknown> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(value ?? {})) if (typeof v === 'number') out[key] = v;
  return out;
}
