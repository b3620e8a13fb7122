import { asArray, asRecord, asString, field } from './read.js';

/**
 * The embeddings wire formats the simulator speaks: OpenAI's `POST /v1/embeddings` (also Azure's
 * deployment path) and Gemini's `:embedContent` / `:batchEmbedContents`. Like a chat dialect, an
 * embeddings wire decides only how things look; errors and headers are its chat dialect's.
 */
export interface EmbeddingWire {
  readonly name: 'openai' | 'gemini-embed' | 'gemini-batch';
  /** A required body field that is missing, if any. */
  missingField(body: Record<string, unknown>): string | undefined;
  /** The inputs to embed, as text (token arrays as `tokens:1,2,3`), and the requested vector length. */
  read(body: Record<string, unknown>): { inputs: string[]; dimensions: number | undefined };
  /** The serialized success body. */
  body(model: string, vectors: number[][], promptTokens: number, requestBody: Record<string, unknown>): string;
}

function openAIInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  const items = asArray(input);
  if (items.length > 0 && typeof items[0] === 'number') return [tokensKey(items)];
  return items.map((item) => (Array.isArray(item) ? tokensKey(item) : String(item)));
}

function tokensKey(tokens: unknown[]): string {
  return `tokens:${tokens.join(',')}`;
}

function base64Float32(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

export const openAIEmbeddings: EmbeddingWire = {
  name: 'openai',
  missingField: (body) => (body['input'] === undefined ? 'input' : undefined),
  read: (body) => ({ inputs: openAIInputs(body['input']), dimensions: typeof body['dimensions'] === 'number' ? body['dimensions'] : undefined }),
  body: (model, vectors, promptTokens, requestBody) => {
    const base64 = requestBody['encoding_format'] === 'base64';
    const data = vectors.map((vector, index) => ({ object: 'embedding', index, embedding: base64 ? base64Float32(vector) : vector }));
    return JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } });
  },
};

function contentText(content: unknown): string {
  return asArray(asRecord(content)['parts'])
    .map((part) => asString(asRecord(part)['text']) ?? '')
    .join('');
}

function dimensionsOf(request: Record<string, unknown>): number | undefined {
  const dims = field(request, 'outputDimensionality');
  return typeof dims === 'number' ? dims : undefined;
}

/** Google's frontend pretty-prints JSON bodies with a trailing newline. */
function pretty(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export const geminiEmbed: EmbeddingWire = {
  name: 'gemini-embed',
  missingField: (body) => (body['content'] === undefined ? 'content' : undefined),
  read: (body) => ({ inputs: [contentText(body['content'])], dimensions: dimensionsOf(body) }),
  body: (_model, vectors) => pretty({ embedding: { values: vectors[0] ?? [] } }),
};

export const geminiBatchEmbed: EmbeddingWire = {
  name: 'gemini-batch',
  missingField: (body) => (Array.isArray(body['requests']) ? undefined : 'requests'),
  read: (body) => {
    const requests = asArray(body['requests']).map(asRecord);
    return { inputs: requests.map((r) => contentText(r['content'])), dimensions: requests[0] ? dimensionsOf(requests[0]) : undefined };
  },
  body: (_model, vectors) => pretty({ embeddings: vectors.map((values) => ({ values })) }),
};
