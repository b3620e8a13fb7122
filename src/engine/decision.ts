/** What the engine does after a failed attempt. A closed union; `rule` names the row that fired. */
export type Decision =
  | { action: 'retry_same'; delayMs: number; rule: string }
  | { action: 'next_target'; cooldownMs?: number; rule: string }
  | { action: 'skip_to'; match: 'other_model'; rule: string }
  | { action: 'degrade'; rule: string }
  | { action: 'stop'; rule: string };

export type DecisionAction = Decision['action'];
