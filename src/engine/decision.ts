/** What the engine does after a failed attempt. A closed union; `rule` names the row that fired. */
export type Decision =
  | { action: 'retry_same'; delayMs: number; rule: string }
  | { action: 'next_target'; cooldownMs?: number; rule: string }
  /** Skip candidates: every target serving the failed model (`other_model`), or every rung before `rung`. */
  | { action: 'skip_to'; match: 'other_model'; rule: string }
  | { action: 'skip_to'; match: 'rung'; rung: number; rule: string }
  | { action: 'degrade'; rule: string }
  /** A committed stream failed: another target continues the answer from where it stopped (continuation.ts). */
  | { action: 'continue'; rule: string }
  | { action: 'stop'; rule: string };

export type DecisionAction = Decision['action'];
