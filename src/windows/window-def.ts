// The one definition of a maintenance window (README "Maintenance windows"): a profile's top-level
// `window:` key, overridden by the same key on a group (aps apply). Either weekdays and hours in an IANA
// time zone, or a cron expression (croner) with a duration. Validated here once, so every later
// computation can trust it.
import { Cron } from 'croner';
import { z } from 'zod';
import { ApsError } from '../errors.ts';
import { parseDuration } from '../duration.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A window's length: "90m", "3h", "7d" (the simulators' duration syntax), at most seven days. */
export function windowDuration(text: string): number | undefined {
  try {
    const ms = parseDuration(text);
    return ms <= 7 * 86_400_000 ? ms : undefined;
  } catch {
    return undefined;
  }
}

const common = {
  tz: z.string().refine(validZone, { message: 'not an IANA time zone (e.g. Europe/Berlin, UTC)' }),
  /** A device that has fetched nothing yet: served at once (`serve`, the default) or only inside the window. */
  newDevices: z.enum(['serve', 'wait']).default('serve'),
  /** Tell devices with a pending change to check at the window's start (their adapter's notify). */
  push: z.boolean().default(false),
};

const hoursWindow = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .default([...WEEKDAYS]),
    from: z.string().regex(HHMM, "must be 'hh:mm'"),
    to: z.string().regex(HHMM, "must be 'hh:mm' (24:00 for midnight)"),
    ...common,
  })
  .strict();

const cronWindow = z
  .object({
    cron: z.string().refine(
      (c) => {
        try {
          new Cron(c, { paused: true });
          return true;
        } catch {
          return false;
        }
      },
      { message: 'not a cron expression (minute hour day month weekday, optionally seconds first)' },
    ),
    duration: z.string().refine((d) => windowDuration(d) !== undefined, { message: 'must be like 90m, 3h or 7d (at most 7 days)' }),
    ...common,
  })
  .strict();

export type HoursWindow = z.infer<typeof hoursWindow>;
export type CronWindow = z.infer<typeof cronWindow>;
export type WindowDef = HoursWindow | CronWindow;

export function isCron(w: WindowDef): w is CronWindow {
  return 'cron' in w;
}

/**
 * Validates a window as a profile or an apply file writes it; the error names where it came from and the
 * key: `profiles/x.yaml: window.tz: not an IANA time zone`.
 */
export function parseWindow(raw: unknown, where: string, code: 'invalid_profile' | 'bad_request' = 'invalid_profile'): WindowDef {
  // Pick the form by its keys, so the message is about the form meant rather than a union's first branch.
  const form = raw !== null && typeof raw === 'object' && 'cron' in raw ? cronWindow : hoursWindow;
  const r = form.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ApsError(code, `${where}: ${['window', ...i.path].join('.')}: ${i.message}`);
  }
  return r.data;
}

/** One line for the operator: "mon-fri 02:00-05:00 Europe/Berlin" or "cron 0 2 * * 1-5 for 3h UTC". */
export function describeWindow(w: WindowDef): string {
  if (isCron(w)) return `cron "${w.cron}" for ${w.duration} (${w.tz})`;
  // Listed Monday first, as a week reads on a site's rota.
  const week = [...WEEKDAYS.slice(1), WEEKDAYS[0]];
  const days = new Set(w.days).size === 7 ? 'every day' : week.filter((d) => w.days.includes(d)).join(',');
  return `${days} ${w.from}-${w.to} (${w.tz})`;
}
