/** The core's notion of "now" where a decision depends on it (maintenance windows); injectable for tests. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
