import type { GeminiPart } from './wire.js';

/** What a translator throws for input it cannot express; request.ts turns it into a failure. */
export class TranslationError extends Error {
  constructor(
    readonly kind: 'unsupported_parameter' | 'invalid_request',
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'TranslationError';
  }
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  aac: 'audio/aac',
  mp4: 'video/mp4',
  mov: 'video/mov',
  webm: 'video/webm',
};

/** MIME type from a URL's or file name's extension; undefined when unknown (Gemini then sniffs it). */
export function guessMimeType(pathOrUrl: string): string | undefined {
  const path = pathOrUrl.split(/[?#]/, 1)[0] ?? '';
  const match = /\.([A-Za-z0-9]+)$/.exec(path);
  return match?.[1] ? MIME_BY_EXTENSION[match[1].toLowerCase()] : undefined;
}

/** `data:[<mime>][;base64],<data>` → inline bytes (base64), or undefined when not a data URL. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!match) return undefined;
  const mimeType = match[1] || 'application/octet-stream';
  const isBase64 = /;base64$/i.test(match[2] ?? '') || /;base64;/i.test(match[2] ?? '');
  const payload = match[3] ?? '';
  const data = isBase64 ? payload.replace(/\s+/g, '') : Buffer.from(percentDecode(payload), 'utf8').toString('base64');
  return { mimeType, data };
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray '%': take the text as it is
  }
}

/**
 * An image (or other media) URL as a Gemini part: a data: URL becomes `inlineData`; an http(s)
 * or gs:// URL becomes `fileData` (Files API URIs, Cloud Storage, YouTube, public URLs), with a
 * MIME type guessed from the extension when there is one.
 */
export function mediaPart(url: string, param: string): GeminiPart {
  const inline = parseDataUrl(url);
  if (inline) return { inlineData: inline };
  if (/^(https?|gs):\/\//i.test(url)) {
    const mimeType = guessMimeType(url);
    return { fileData: mimeType ? { fileUri: url, mimeType } : { fileUri: url } };
  }
  throw new TranslationError('invalid_request', param, `unsupported media URL scheme in '${param}' (use a data:, http(s):// or gs:// URL)`);
}
