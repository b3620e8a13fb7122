import type { EmbeddingResponse } from '../canonical/embeddings.js';
import { encodeFloat32Base64 } from '../canonical/float32-base64.js';

/** OpenAI's embeddings response body; with `base64`, each vector is its float32 little-endian bytes in base64. */
export function embeddingsResponseBody(response: EmbeddingResponse, encoding: 'float' | 'base64'): string {
  const data = response.data.map((item) => ({
    object: 'embedding',
    index: item.index,
    embedding: encoding === 'base64' ? encodeFloat32Base64(item.embedding) : item.embedding,
  }));
  return JSON.stringify({ object: 'list', data, model: response.model, usage: response.usage });
}
