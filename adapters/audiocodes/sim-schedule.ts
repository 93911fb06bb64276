// When the simulated gateway checks next (seed 001 §32; protocols.md §(a) "When the device checks"): every
// AutoUpdateFrequency minutes, or daily at AutoUpdatePredefinedTime plus a random delay of up to
// AutoUpdatePredefinedRandomTime seconds, by the gateway's own clock (UTC + NTPServerUTCOffset). Pure: the
// time and the random source come in, so the computation is unit-tested.
import { getParam, valueText, type IniDoc } from './ini-doc.ts';

export interface NextCheck {
  at: Date;
  /** For the operator: what the time comes from. */
  why: string;
}

const DAY_MS = 86_400_000;
/** MP-11x 6.6 manual table 43-64 (p.577): the predefined time is "randomised within 5 min" by default. */
const DEFAULT_RANDOM_S = 300;

function num(config: IniDoc | null, name: string): number | undefined {
  const v = config && getParam(config, name);
  const n = v ? Number(valueText(v).trim()) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The next periodic check after `now` from the applied ini (or `everyMs`, the lab override); null when
 * the ini schedules none (AutoUpdateFrequency 0 or absent, and no valid AutoUpdatePredefinedTime).
 */
export function nextCheck(config: IniDoc | null, now: Date, o: { everyMs?: number | null; random?: () => number } = {}): NextCheck | null {
  if (o.everyMs) return { at: new Date(now.getTime() + o.everyMs), why: `every ${o.everyMs / 1000} s (--every)` };
  const minutes = num(config, 'AutoUpdateFrequency');
  if (minutes !== undefined && Number.isInteger(minutes) && minutes > 0) {
    return { at: new Date(now.getTime() + minutes * 60_000), why: `AutoUpdateFrequency = ${minutes} min` };
  }
  const time = config && getParam(config, 'AutoUpdatePredefinedTime');
  const m = time && /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(valueText(time).trim());
  if (!m) return null;
  const offsetMs = (num(config, 'NTPServerUTCOffset') ?? 0) * 1000;
  const randomMax = Math.max(0, Math.trunc(num(config, 'AutoUpdatePredefinedRandomTime') ?? DEFAULT_RANDOM_S));
  // The gateway's wall clock is UTC shifted by its offset; its "hh:mm" is on that clock.
  const local = now.getTime() + offsetMs;
  let at = Math.floor(local / DAY_MS) * DAY_MS + (Number(m[1]) * 60 + Number(m[2])) * 60_000;
  if (at <= local) at += DAY_MS;
  const delayS = Math.min(randomMax, Math.floor((o.random ?? Math.random)() * (randomMax + 1)));
  const hhmm = `${m[1]!.padStart(2, '0')}:${m[2]}`;
  const zone = offsetMs === 0 ? 'UTC' : `UTC${offsetMs > 0 ? '+' : '-'}${Math.abs(offsetMs) / 1000}s`;
  return {
    at: new Date(at - offsetMs + delayS * 1000),
    why: `daily at ${hhmm} ${zone} + ${delayS} s random delay (AutoUpdatePredefinedRandomTime ${randomMax})`,
  };
}
