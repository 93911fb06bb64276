/** The core's notion of "now" where a decision depends on it (maintenance windows); injectable for tests. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

// A device request stamps up to three records (its event, what it reported, what it fetched): the ISO
// string of one millisecond is made once.
let isoMs = -1;
let isoText = '';

/** The current time as an ISO string (what events and device state record). */
export function nowIso(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}
