import { z } from 'zod';

/** How long a key's budget runs before it starts afresh (`total`: never). */
export const BUDGET_PERIODS = ['day', 'week', 'month', 'total'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** A spend budget, in the price table's currency. Stored now, enforced once requests are priced. */
export interface KeyBudget {
  amount: number;
  period: BudgetPeriod;
}

/**
 * One virtual key as stored: never the key itself, only its hash. Timestamps are ISO 8601 (the
 * file is read by people too). `routes` and `targets` are allow-lists (allow-list.ts); `['*']`
 * allows everything.
 */
export interface KeyRecord {
  /** Short and public (`key_…`): what logs, the admin API and the CLI name the key by. */
  id: string;
  name: string;
  /** `sha256:<hex>` of the plain key. */
  hash: string;
  created_at: string;
  expires_at?: string | undefined;
  revoked_at?: string | undefined;
  /** Route names, or `*`. */
  routes: string[];
  /** `provider/model`, `provider/*`, or `*`. */
  targets: string[];
  /** Requests per minute; absent: unlimited. */
  rpm?: number | undefined;
  /** Tokens per minute (prompt + output); absent: unlimited. */
  tpm?: number | undefined;
  budget?: KeyBudget | undefined;
  metadata: Record<string, string>;
}

export type KeyStatus = 'active' | 'revoked' | 'expired';

/** What a key is at `now`: revoked wins over expired. */
export function keyStatus(record: KeyRecord, now: number): KeyStatus {
  if (record.revoked_at !== undefined) return 'revoked';
  if (record.expires_at !== undefined && Date.parse(record.expires_at) <= now) return 'expired';
  return 'active';
}

/** Sort order of `KeyStore.list`: creation time, then id. */
export function oldestFirst(a: KeyRecord, b: KeyRecord): number {
  return Date.parse(a.created_at) - Date.parse(b.created_at) || a.id.localeCompare(b.id);
}

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 time');

/**
 * A stored record, checked when read back (a hand-edited file or another version's writes).
 * Unknown fields pass through untouched, so a rewrite never drops what a newer version added.
 */
export const keyRecordSchema = z.looseObject({
  id: z.string().regex(/^key_[a-z0-9]{4,64}$/, 'expected key_ and lowercase letters or digits'),
  name: z.string().min(1),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits>'),
  created_at: isoTime,
  expires_at: isoTime.optional(),
  revoked_at: isoTime.optional(),
  routes: z.array(z.string().min(1)),
  targets: z.array(z.string().min(1)),
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  budget: z.strictObject({ amount: z.number().nonnegative(), period: z.enum(BUDGET_PERIODS) }).optional(),
  metadata: z.record(z.string(), z.string()),
});

/** A stored record, or undefined when it is not one (with why). */
export function parseKeyRecord(value: unknown): { ok: true; record: KeyRecord } | { ok: false; problem: string } {
  const parsed = keyRecordSchema.safeParse(value);
  if (parsed.success) return { ok: true, record: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, problem: issue ? `${issue.path.join('.') || '(record)'}: ${issue.message}` : 'invalid key record' };
}
