import type { IncomingMessage } from 'node:http';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' };

/** Reads a request body up to `limit` bytes; stops reading (and says so) as soon as it is exceeded. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve({ ok: false, reason: 'too_large' });
  }
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (piece: Buffer): void => {
      size += piece.length;
      if (size > limit) {
        parts.length = 0;
        req.resume();
        finish({ ok: false, reason: 'too_large' });
        return;
      }
      parts.push(piece);
    };
    req.on('data', onData);
    req.once('end', () => finish({ ok: true, body: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts) }));
    req.once('error', () => finish({ ok: false, reason: 'aborted' }));
    req.once('close', () => finish({ ok: false, reason: 'aborted' }));
  });
}
