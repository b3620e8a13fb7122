import type { IncomingMessage } from 'node:http';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' };

/**
 * A body over the limit is not kept, but the rest of it is still read (and dropped) for a short,
 * bounded while before the 413 goes out: a connection closed while the client is still sending
 * is reset, and a reset can destroy the answer before the client reads it. Past either bound the
 * 413 goes out at once.
 */
const DISCARD_MS = 2_000;
const DISCARD_BYTES = 64 * 1024 * 1024;

/** Reads a request body up to `limit` bytes; past it, keeps nothing more (and says so). */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    if (declared > DISCARD_BYTES) {
      req.resume();
      return Promise.resolve({ ok: false, reason: 'too_large' });
    }
    return discardRest(req, 0).then(() => ({ ok: false, reason: 'too_large' }));
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
        done = true;
        req.off('data', onData);
        void discardRest(req, size).then(() => resolve({ ok: false, reason: 'too_large' }));
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

/** Reads and drops what is left of a body: until it ends, the client goes, or a bound is reached. */
function discardRest(req: IncomingMessage, alreadyRead: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = alreadyRead;
    const done = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', done);
      req.off('close', done);
      req.off('error', done);
      resolve();
    };
    const onData = (piece: Buffer): void => {
      seen += piece.length;
      if (seen > DISCARD_BYTES) done();
    };
    const timer = setTimeout(done, DISCARD_MS);
    if (req.readableEnded || req.destroyed) return done();
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    // Flowing with no reader left: whatever else arrives is dropped.
    req.resume();
  });
}
