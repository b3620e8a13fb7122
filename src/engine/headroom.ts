/**
 * Rate-limit headroom from providers' response headers (forwarded into `UpstreamCall.headers`),
 * and the share of it left, for the `headroom` strategy. Two header families:
 *
 *   OpenAI (and Azure, and OpenAI-compatible servers that copy it):
 *     x-ratelimit-limit-requests / -tokens       window size
 *     x-ratelimit-remaining-requests / -tokens   left in the window
 *     x-ratelimit-reset-requests / -tokens       time until it refills: "1s", "6m0s", "20ms", "1h2m3.5s"
 *   Anthropic:
 *     anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}
 *     (reset is an RFC 3339 time)
 */
import type { Headroom, LimitWindow, RateDimension } from '../state/balance-state.js';
import type { RateLimits } from './load-balance.js';

/** A report older than this with no reset time is not trusted (provider windows are per minute). */
export const HEADROOM_STALE_MS = 60_000;

const OPENAI_DIMENSIONS: Record<string, RateDimension> = { requests: 'requests', tokens: 'tokens' };
const ANTHROPIC_DIMENSIONS: Record<string, RateDimension> = {
  requests: 'requests',
  tokens: 'tokens',
  'input-tokens': 'input_tokens',
  'output-tokens': 'output_tokens',
};

const OPENAI_HEADER = /^x-ratelimit-(limit|remaining|reset)-(requests|tokens)$/;
const ANTHROPIC_HEADER = /^anthropic-ratelimit-(requests|tokens|input-tokens|output-tokens)-(limit|remaining|reset)$/;

/** The headroom the headers report at `now`, or undefined when they report none (no `remaining` value). */
export function parseHeadroom(headers: Readonly<Record<string, string>>, now: number): Headroom | undefined {
  const windows: Partial<Record<RateDimension, Partial<LimitWindow>>> = {};
  const set = (dimension: RateDimension, field: keyof LimitWindow, value: number | undefined): void => {
    if (value === undefined) return;
    (windows[dimension] ??= {})[field] = value;
  };
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    const openai = OPENAI_HEADER.exec(name);
    if (openai) {
      const field = openai[1] as 'limit' | 'remaining' | 'reset';
      const dimension = OPENAI_DIMENSIONS[openai[2] as string] as RateDimension;
      if (field === 'reset') {
        const ms = parseGoDuration(value);
        set(dimension, 'resetAt', ms === undefined ? undefined : now + ms);
      } else set(dimension, field, count(value));
      continue;
    }
    const anthropic = ANTHROPIC_HEADER.exec(name);
    if (anthropic) {
      const dimension = ANTHROPIC_DIMENSIONS[anthropic[1] as string] as RateDimension;
      const field = anthropic[2] as 'limit' | 'remaining' | 'reset';
      if (field === 'reset') {
        const at = Date.parse(value);
        set(dimension, 'resetAt', Number.isNaN(at) ? undefined : at);
      } else set(dimension, field, count(value));
    }
  }
  const out: Headroom = { at: now, windows: {} };
  for (const [dimension, window] of Object.entries(windows) as [RateDimension, Partial<LimitWindow>][]) {
    if (window.remaining === undefined) continue;
    out.windows[dimension] = { remaining: window.remaining, ...(window.limit !== undefined ? { limit: window.limit } : {}), ...(window.resetAt !== undefined ? { resetAt: window.resetAt } : {}) };
  }
  return Object.keys(out.windows).length > 0 ? out : undefined;
}

/**
 * The share left of the tightest window at `now`, 0..1, or undefined when unknown. A window that
 * has refilled (its reset time passed) counts as full; its size is the provider's `limit`, else the
 * configured `rpm` (requests) or `tpm` (tokens); a window of unknown size counts only when empty.
 * A report older than `HEADROOM_STALE_MS` without any reset time is unknown.
 */
export function headroomShare(headroom: Headroom | undefined, limits: RateLimits | undefined, now: number): number | undefined {
  if (!headroom) return undefined;
  let share: number | undefined;
  let hasReset = false;
  for (const [dimension, window] of Object.entries(headroom.windows) as [RateDimension, LimitWindow][]) {
    let s: number | undefined;
    if (window.resetAt !== undefined) hasReset = true;
    if (window.resetAt !== undefined && window.resetAt <= now) s = 1;
    else {
      const size = window.limit ?? (dimension === 'requests' ? limits?.rpm : dimension === 'tokens' ? limits?.tpm : undefined);
      if (size !== undefined && size > 0) s = Math.min(1, Math.max(0, window.remaining / size));
      else if (window.remaining <= 0) s = 0;
    }
    if (s !== undefined) share = share === undefined ? s : Math.min(share, s);
  }
  if (!hasReset && now - headroom.at > HEADROOM_STALE_MS) return undefined;
  return share;
}

/** A Go-style duration as OpenAI sends it ("6m0s", "1.5s", "20ms", "1h2m3s") in ms, or undefined. */
export function parseGoDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/.test(trimmed)) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let ms = 0;
  for (const part of trimmed.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(part[1]) * (unit[part[2] as string] ?? 0);
  return ms;
}

function count(text: string): number | undefined {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
}
