import { keyStatus, type KeyBudget, type KeyRecord, type KeyStatus } from './key-record.js';

/** A key as the admin API and the CLI show it: everything but its hash (and never the key). */
export interface KeyView {
  id: string;
  name: string;
  status: KeyStatus;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  routes: string[];
  targets: string[];
  rpm: number | null;
  tpm: number | null;
  budget: KeyBudget | null;
  metadata: Record<string, string>;
}

export function keyView(record: KeyRecord, now: number): KeyView {
  return {
    id: record.id,
    name: record.name,
    status: keyStatus(record, now),
    created_at: record.created_at,
    expires_at: record.expires_at ?? null,
    revoked_at: record.revoked_at ?? null,
    routes: [...record.routes],
    targets: [...record.targets],
    rpm: record.rpm ?? null,
    tpm: record.tpm ?? null,
    budget: record.budget ? { ...record.budget } : null,
    metadata: { ...record.metadata },
  };
}
