import type { IncomingHttpHeaders } from 'node:http';
import type { ClientError } from '../engine/all-failed.js';
import { badRequest } from './respond.js';

/** The request's own cost cap on resilience, from `x-understudy-max-extra-cost` (a non-negative number). */
export function maxExtraCostHeader(headers: IncomingHttpHeaders): { ok: true; value: number | undefined } | { ok: false; error: ClientError } {
  const raw = headers['x-understudy-max-extra-cost'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined) return { ok: true, value: undefined };
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    return { ok: false, error: badRequest('x-understudy-max-extra-cost must be a non-negative number (the most retries, hedges and fallbacks may cost, in the price table\'s currency).', 'invalid_header', 'x-understudy-max-extra-cost') };
  }
  return { ok: true, value };
}
