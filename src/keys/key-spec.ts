import { ANY, routeEntryProblem, targetEntryProblem } from './allow-list.js';
import { generateKey, hashKey, newKeyId } from './key-material.js';
import type { KeyBudget, KeyRecord } from './key-record.js';

/** What a new key should be, as the CLI and the admin API take it (before an id and a key exist). */
export interface KeySpec {
  name: string;
  /** Default `['*']`. */
  routes?: string[] | undefined;
  /** Default `['*']`. */
  targets?: string[] | undefined;
  rpm?: number | undefined;
  tpm?: number | undefined;
  /** Epoch ms. */
  expiresAt?: number | undefined;
  budget?: KeyBudget | undefined;
  metadata?: Record<string, string> | undefined;
}

/** The config's names a key's allow-lists may refer to. */
export interface KnownNames {
  routes: readonly string[];
  providers: readonly string[];
}

export interface SpecProblem {
  /** The field at fault, as the admin API names it (`routes[1]`, `expires_at`). */
  field: string;
  message: string;
}

export const MAX_NAME_LENGTH = 100;
export const MAX_METADATA_ENTRIES = 32;

/** Everything wrong with a spec (empty when it can be issued). */
export function keySpecProblems(spec: KeySpec, known: KnownNames, now: number): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (spec.name.trim() === '' || spec.name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(spec.name)) {
    problems.push({ field: 'name', message: `expected 1 to ${MAX_NAME_LENGTH} printable characters` });
  }
  const listProblems = (field: string, list: string[] | undefined, check: (entry: string) => string | undefined): void => {
    if (list === undefined) return;
    if (list.length === 0) problems.push({ field, message: `an empty list allows nothing; use ${ANY} for everything` });
    list.forEach((entry, i) => {
      const problem = check(entry);
      if (problem) problems.push({ field: `${field}[${i}]`, message: problem });
    });
  };
  listProblems('routes', spec.routes, (entry) => routeEntryProblem(entry, known.routes));
  listProblems('targets', spec.targets, (entry) => targetEntryProblem(entry, known.providers));
  for (const field of ['rpm', 'tpm'] as const) {
    const value = spec[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) problems.push({ field, message: 'expected a positive integer' });
  }
  if (spec.expiresAt !== undefined && !(spec.expiresAt > now)) problems.push({ field: 'expires', message: 'the key would already have expired' });
  if (spec.budget !== undefined && !(spec.budget.amount >= 0)) problems.push({ field: 'budget.amount', message: 'expected a number ≥ 0' });
  const metadata = Object.entries(spec.metadata ?? {});
  if (metadata.length > MAX_METADATA_ENTRIES) problems.push({ field: 'metadata', message: `at most ${MAX_METADATA_ENTRIES} entries` });
  for (const [k, v] of metadata) {
    if (k === '' || k.length > 64 || v.length > 512) problems.push({ field: `metadata.${k}`, message: 'keys are 1 to 64 characters, values at most 512' });
  }
  return problems;
}

/** A new key: the plain key (to show once) and the record to store (its hash only). */
export function issueKey(spec: KeySpec, now: number): { plain: string; record: KeyRecord } {
  const plain = generateKey();
  const record: KeyRecord = {
    id: newKeyId(),
    name: spec.name,
    hash: hashKey(plain),
    created_at: new Date(now).toISOString(),
    routes: spec.routes ?? [ANY],
    targets: spec.targets ?? [ANY],
    metadata: { ...(spec.metadata ?? {}) },
  };
  if (spec.expiresAt !== undefined) record.expires_at = new Date(spec.expiresAt).toISOString();
  if (spec.rpm !== undefined) record.rpm = spec.rpm;
  if (spec.tpm !== undefined) record.tpm = spec.tpm;
  if (spec.budget !== undefined) record.budget = { ...spec.budget };
  return { plain, record };
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30d`, `12h`, `90m`, `2w`, `45s` from `now`, or an ISO 8601 time: epoch ms, or why not. */
export function parseExpiry(text: string, now: number): { ok: true; at: number } | { ok: false; problem: string } {
  const duration = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (duration) {
    const amount = Number(duration[1]);
    const unit = UNIT_MS[duration[2] ?? ''] ?? 0;
    if (amount === 0) return { ok: false, problem: `'${text}' is not in the future` };
    return { ok: true, at: now + amount * unit };
  }
  const at = Date.parse(text);
  if (Number.isNaN(at)) return { ok: false, problem: `'${text}' is neither a duration (30d, 12h, 90m, 2w) nor an ISO 8601 time` };
  if (at <= now) return { ok: false, problem: `'${text}' is not in the future` };
  return { ok: true, at };
}
