/**
 * Rebuilds Anthropic's own `Message` from its raw stream events, keeping every field and block
 * type as sent (signatures, citations, server tool blocks), for same-format pass-through to a
 * client that did not stream. Works on plain JSON: it must not lose what it does not know.
 */
type Json = Record<string, unknown>;

export class MessageAccumulator {
  private message: Json | undefined;
  private readonly partialJson = new Map<number, string>();

  add(event: Json): void {
    switch (event.type) {
      case 'message_start':
        this.message = { ...(event.message as Json), content: [] };
        return;
      case 'content_block_start': {
        const content = this.content();
        if (content && typeof event.index === 'number') content[event.index] = { ...(event.content_block as Json) };
        return;
      }
      case 'content_block_delta':
        this.delta(event.index, event.delta as Json);
        return;
      case 'content_block_stop': {
        const index = event.index;
        const block = typeof index === 'number' ? this.content()?.[index] : undefined;
        const json = typeof index === 'number' ? this.partialJson.get(index) : undefined;
        if (block && json !== undefined) {
          try {
            block.input = json === '' ? {} : JSON.parse(json);
          } catch {
            block.input = {};
          }
        }
        return;
      }
      case 'message_delta': {
        if (!this.message) return;
        Object.assign(this.message, event.delta as Json);
        this.message.usage = { ...(this.message.usage as Json), ...(event.usage as Json) };
        return;
      }
      default:
        return;
    }
  }

  result(): Json | undefined {
    return this.message;
  }

  private content(): Json[] | undefined {
    return this.message?.content as Json[] | undefined;
  }

  private delta(index: unknown, delta: Json): void {
    const block = typeof index === 'number' ? this.content()?.[index] : undefined;
    if (!block || typeof index !== 'number') return;
    switch (delta.type) {
      case 'text_delta':
        block.text = String(block.text ?? '') + String(delta.text ?? '');
        return;
      case 'thinking_delta':
        block.thinking = String(block.thinking ?? '') + String(delta.thinking ?? '');
        return;
      case 'signature_delta':
        block.signature = String(delta.signature ?? '');
        return;
      case 'input_json_delta':
        this.partialJson.set(index, (this.partialJson.get(index) ?? '') + String(delta.partial_json ?? ''));
        return;
      case 'citations_delta':
        block.citations = [...((block.citations as unknown[] | undefined) ?? []), delta.citation];
        return;
      default:
        return;
    }
  }
}
