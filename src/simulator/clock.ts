/** Time source for the simulator's scheduled outages (ms since the Unix epoch). */
export interface SimClock {
  now(): number;
}

/** The real wall clock. */
export const systemClock: SimClock = { now: () => Date.now() };
