/**
 * OpenAI's `encoding_format: base64`: each vector as the base64 of its float32 values, little
 * endian (what the official SDKs decode with `new Float32Array(buffer)` on every platform they run on).
 */

export function encodeFloat32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

/** The vector in a base64 string, or undefined when it is not whole float32 values. */
export function decodeFloat32Base64(text: string): number[] | undefined {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) return undefined;
  const out: number[] = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
