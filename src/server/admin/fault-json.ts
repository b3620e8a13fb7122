import type { RawFaultRule } from '../../config/schema.js';
import type { FaultEntry } from '../../providers/fault-book.js';
import { faultActive, type InjectedFault } from '../../providers/fault-injection.js';

/** A fault rule as the admin API shows it: the config file's shape, plus its id, source and state. */
export interface FaultView {
  id: string;
  source: FaultEntry['source'];
  target: string;
  fault: RawFaultRule['fault'];
  fraction: number;
  from?: string;
  until?: string;
  daily?: string;
  /** When the rule stops applying for good (ISO 8601), or null for never. An admin rule is then removed. */
  expires_at: string | null;
  /** When an admin rule was added; null for config rules. */
  created_at: string | null;
  /** Whether the rule is in force now (inside its window); `fraction` still draws per request. */
  active: boolean;
}

export function faultView(entry: FaultEntry, now: number): FaultView {
  const { rule } = entry;
  const view: FaultView = {
    id: entry.id,
    source: entry.source,
    target: rule.target,
    fault: wireFault(rule.fault),
    fraction: rule.fraction,
    expires_at: rule.untilMs !== undefined ? iso(rule.untilMs) : null,
    created_at: entry.createdAt !== undefined ? iso(entry.createdAt) : null,
    active: faultActive(rule, now),
  };
  if (rule.fromMs !== undefined) view.from = iso(rule.fromMs);
  if (rule.untilMs !== undefined) view.until = iso(rule.untilMs);
  if (rule.daily) view.daily = `${hhmm(rule.daily.startMinute)}-${hhmm(rule.daily.endMinute)}`;
  return view;
}

/** The inverse of config's `injectedFault`: the snake_case shape the file and the API use. */
export function wireFault(fault: InjectedFault): RawFaultRule['fault'] {
  switch (fault.kind) {
    case 'status':
      return fault.retryAfterMs !== undefined ? { kind: 'status', status: fault.status, retry_after_ms: fault.retryAfterMs } : { kind: 'status', status: fault.status };
    case 'latency':
      return { kind: 'latency', ms: fault.ms };
    case 'cut':
    case 'stall':
    case 'malformed_chunk':
      return { kind: fault.kind, after_chunks: fault.afterChunks };
    case 'reset':
    case 'no_response':
    case 'empty_output':
      return { kind: fault.kind };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
