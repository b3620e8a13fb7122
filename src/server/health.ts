import type { ServerResponse } from 'node:http';
import type { StateStore } from '../state/state-store.js';
import type { Drain } from './drain.js';
import { sendJson } from './respond.js';

/** What `GET /health/ready` looks at. */
export interface ReadinessDeps {
  /** Absent: nothing to check (an in-process store). */
  state?: StateStore;
  /** The shutdown in progress, if any (ready answers 503 while draining). */
  drain?: Drain;
  /** Routes in the loaded config. */
  routes?: number;
  startedAt: number;
  now: () => number;
}

type CheckStatus = 'ok' | 'degraded' | 'failing' | 'draining';

interface Check {
  status: CheckStatus;
  [detail: string]: unknown;
}

/** `GET /health/live`: the process runs and its event loop answers. Always 200, even while draining. */
export function sendLive(res: ServerResponse, deps: Pick<ReadinessDeps, 'drain' | 'startedAt' | 'now'>): void {
  const body = { status: 'ok', checks: { process: { status: 'ok', uptime_ms: Math.max(0, deps.now() - deps.startedAt), draining: deps.drain?.draining === true } } };
  sendJson(res, 200, JSON.stringify(body), { 'cache-control': 'no-store' });
}

/**
 * `GET /health/ready`: 200 when this instance should get traffic — config loaded, the state
 * backend reachable or knowingly degraded (running on local state), not shutting down — else
 * 503. Every check is in the body with its detail.
 */
export function sendReady(res: ServerResponse, deps: ReadinessDeps): void {
  const checks: Record<string, Check> = {
    config: { status: 'ok', ...(deps.routes !== undefined ? { routes: deps.routes } : {}) },
    state: stateCheck(deps.state),
    shutdown: { status: deps.drain?.draining ? 'draining' : 'ok' },
  };
  const ready = Object.values(checks).every((c) => c.status === 'ok' || c.status === 'degraded');
  const body = { status: ready ? 'ready' : 'not_ready', checks };
  sendJson(res, ready ? 200 : 503, JSON.stringify(body), { 'cache-control': 'no-store' });
}

function stateCheck(state: StateStore | undefined): Check {
  if (!state?.health) return { status: 'ok', backend: 'memory' };
  try {
    const health = state.health();
    return { status: health.status, backend: health.backend, ...(health.detail ? { detail: health.detail } : {}) };
  } catch {
    // Not the error's message: a backend's errors may name its URL, credentials included.
    return { status: 'failing', detail: 'the state store could not report its health' };
  }
}
