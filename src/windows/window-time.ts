// When a window is open, computed from its definition and an instant. Weekday-and-hours windows are read
// on the wall clock of their IANA zone (Intl): a window 02:00-05:00 is open while the local clock shows
// 02:00-04:59, whatever the UTC offset is that night. One DST case is special: a window the clock skips
// whole (02:00-03:00 on a spring-forward night) opens when the clock resumes, for its length, rather than
// not at all that day (a weekly window would wait two weeks; a cron window also runs then). A window whose `to` is
// not after its `from` crosses midnight and belongs to the day it starts on. Cron windows start at each
// occurrence (croner, in the window's zone) and last `duration`.
import { Cron } from 'croner';
import { isCron, windowDuration, WEEKDAYS, type CronWindow, type HoursWindow, type WindowDef } from './window-def.ts';

export interface WindowTimes {
  open: boolean;
  /** The end of the occurrence open now; null when closed. */
  closesAt: Date | null;
  /** The start of the next occurrence after now (while open: the one after this one). */
  nextStart: Date | null;
  /** The end of the last occurrence that ended at or before now; null when none in the last 8 days (a window of no day). */
  lastClose: Date | null;
  /** The start of the occurrence open now, else of the next one: what a device's daily check should aim at. */
  aimStart: Date | null;
  /** The end of that occurrence. */
  aimEnd: Date | null;
}

interface Local {
  weekday: number;
  minutes: number;
  y: number;
  m: number;
  d: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, f);
  }
  return f;
}

/** The wall clock of a zone at an instant. */
export function localTime(ms: number, tz: string): Local & { hour: number; minute: number } {
  const parts: Record<string, string> = {};
  for (const p of format(tz).formatToParts(new Date(ms))) parts[p.type] = p.value;
  const hour = Number(parts.hour);
  const minute = Number(parts.minute);
  return {
    weekday: WEEKDAYS.indexOf(parts.weekday!.toLowerCase().slice(0, 3) as (typeof WEEKDAYS)[number]),
    minutes: hour * 60 + minute,
    hour,
    minute,
    y: Number(parts.year),
    m: Number(parts.month),
    d: Number(parts.day),
  };
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(ms: number, tz: string): number {
  const l = localTime(ms, tz);
  const sec = new Date(ms).getUTCSeconds();
  return Date.UTC(l.y, l.m - 1, l.d, l.hour, l.minute, sec) - (ms - (ms % 1000));
}

/**
 * The instant a wall-clock time occurs in a zone. A time the clock skips (spring forward) maps to the
 * same wall time with the offset before the change, i.e. just after the gap; a repeated hour (fall back)
 * to its first occurrence.
 */
export function instantOf(y: number, m: number, d: number, minutes: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  // The offsets half a day either side cover any change that night: each gives a candidate, kept when
  // the zone's clock really shows that wall time then.
  const before = wall - offsetAt(wall - 43_200_000, tz);
  const after = wall - offsetAt(wall + 43_200_000, tz);
  const shows = (t: number): boolean => Date.UTC(...ymdhm(localTime(t, tz))) === wall;
  const valid = [before, after].filter(shows);
  return valid.length ? Math.min(...valid) : before;
}

function ymdhm(l: Local & { hour: number; minute: number }): [number, number, number, number, number] {
  return [l.y, l.m - 1, l.d, l.hour, l.minute];
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** Occurrences [start, end) of an hours window whose start day lies within the days around `ms`. */
function hoursOccurrences(w: HoursWindow, ms: number, daysBefore: number, daysAfter: number): Array<[number, number]> {
  const from = minutesOf(w.from);
  const to = minutesOf(w.to);
  const length = to > from ? to - from : to + 1440 - from;
  const wanted = new Set(w.days.map((d) => WEEKDAYS.indexOf(d)));
  const today = localTime(ms, w.tz);
  const out: Array<[number, number]> = [];
  for (let k = -daysBefore; k <= daysAfter; k++) {
    // Calendar arithmetic on the local date (UTC fields as a plain calendar), then into the zone.
    const day = new Date(Date.UTC(today.y, today.m - 1, today.d + k));
    if (!wanted.has(day.getUTCDay())) continue;
    const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
    const start = instantOf(y, m, d, from, w.tz);
    // The end on the wall clock too (a window across a DST change is an hour shorter or longer).
    const end = instantOf(y, m, d, from + length, w.tz);
    out.push([start, end > start ? end : start + length * 60_000]);
  }
  return out;
}

const crons = new Map<string, Cron>();
function cronOf(w: CronWindow): Cron {
  const key = `${w.tz}\0${w.cron}`;
  let c = crons.get(key);
  if (!c) {
    c = new Cron(w.cron, { timezone: w.tz, paused: true });
    crons.set(key, c);
  }
  return c;
}

function cronTimes(w: CronWindow, now: number): WindowTimes {
  const c = cronOf(w);
  const duration = windowDuration(w.duration)!;
  const last = c.previousRuns(1, new Date(now + 1))[0]?.getTime();
  const open = last !== undefined && now < last + duration;
  const next = c.nextRun(new Date(now))?.getTime() ?? null;
  // The last end at or before now is that of the last start at or before now - duration.
  const ended = c.previousRuns(1, new Date(now - duration + 1))[0]?.getTime();
  return {
    open,
    closesAt: open ? new Date(last! + duration) : null,
    nextStart: next === null ? null : new Date(next),
    lastClose: ended === undefined ? null : new Date(ended + duration),
    aimStart: open ? new Date(last!) : next === null ? null : new Date(next),
    aimEnd: open ? new Date(last! + duration) : next === null ? null : new Date(next + duration),
  };
}

function hoursTimes(w: HoursWindow, now: number): WindowTimes {
  const occ = hoursOccurrences(w, now, 8, 8).sort((a, b) => a[0] - b[0]);
  const current = occ.filter(([s, e]) => s <= now && now < e).sort((a, b) => b[1] - a[1])[0];
  const next = occ.find(([s]) => s > now);
  const ended = occ.filter(([, e]) => e <= now).sort((a, b) => b[1] - a[1])[0];
  return {
    open: current !== undefined,
    closesAt: current ? new Date(current[1]) : null,
    nextStart: next ? new Date(next[0]) : null,
    lastClose: ended ? new Date(ended[1]) : null,
    aimStart: current ? new Date(current[0]) : next ? new Date(next[0]) : null,
    aimEnd: current ? new Date(current[1]) : next ? new Date(next[1]) : null,
  };
}

export function windowTimes(w: WindowDef, now: number): WindowTimes {
  return isCron(w) ? cronTimes(w, now) : hoursTimes(w, now);
}

/** Starts of occurrences in (after, upTo]: what the push scheduler acts on. */
export function startsBetween(w: WindowDef, after: number, upTo: number): Date[] {
  if (upTo <= after) return [];
  if (isCron(w)) {
    const out: Date[] = [];
    let t = cronOf(w).nextRun(new Date(after));
    while (t && t.getTime() <= upTo && out.length < 100) {
      out.push(t);
      t = cronOf(w).nextRun(t);
    }
    return out;
  }
  return hoursOccurrences(w, upTo, 8, 0)
    .filter(([s]) => s > after && s <= upTo)
    .map(([s]) => new Date(s));
}

/**
 * The local hours (0-23, in the window's zone) during which the window is open at some minute, over a
 * week: for devices that take a list of allowed hours. Sorted from the window's first hour on.
 */
export function windowHours(w: WindowDef, now: number): number[] {
  const hours: number[] = [];
  const seen = new Set<number>();
  const add = (h: number): void => {
    if (!seen.has(h)) {
      seen.add(h);
      hours.push(h);
    }
  };
  if (!isCron(w)) {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    const length = to > from ? to - from : to + 1440 - from;
    for (let m = from - (from % 60); m < from + length; m += 60) add(Math.floor(m / 60) % 24);
    return hours;
  }
  const duration = windowDuration(w.duration)!;
  // A week of occurrences (at most 64) sampled every half hour: allowed hours are a coarse hint to the
  // device, the core decides anyway; a finer scan costs tens of milliseconds for a frequent cron.
  const weekEnd = now + 7 * 86_400_000;
  const starts: Date[] = [];
  for (let d = cronOf(w).nextRun(new Date(now)); d && d.getTime() <= weekEnd && starts.length < 64; d = cronOf(w).nextRun(d))
    starts.push(d);
  for (const s of starts) {
    for (let t = s.getTime(); t < s.getTime() + duration && seen.size < 24; t += 30 * 60_000) add(localTime(t, w.tz).hour);
  }
  return hours;
}

/** 'hh:mm' on the window zone's wall clock. */
export function localHhmm(at: Date, tz: string): string {
  const l = localTime(at.getTime(), tz);
  return `${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
}
