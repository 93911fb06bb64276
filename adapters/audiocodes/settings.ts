// What a site can set: the adapter's section of aps.yaml, a profile's `settings`, and the device/group
// variables that override them. The schedule follows seed 001 §32 (AutoUpdateFrequency in minutes, or
// AutoUpdatePredefinedTime 'hh:mm' plus a random delay) and protocols.md §(a): one or the other, never both.
import { ApsError, sipPushConfig, type DeviceWindow } from '../../src/adapter-api.ts';
import { z } from 'zod';
import { INI_ENCODINGS } from './ini-encoding.ts';
import type { AuxKind, UpdateSchedule } from './render.ts';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export const configSchema = z
  .object({
    /**
     * Anonymous FTP (with the core's `ftp.anonymous: true`) may fetch `/<mac>.ini` and that device's
     * cmp/aux paths for devices that have no password. The root lists nothing, so no MAC is revealed.
     */
    ftpAnonymous: z.boolean().default(false),
    // sipTimers and sipAdvertisedHost for `aps notify` (SIP NOTIFY check-sync).
    ...sipPushConfig,
  })
  .strict();
export type AudioCodesConfig = z.infer<typeof configSchema>;

export const SCHEMES = ['http', 'https', 'ftp'] as const;
export type Scheme = (typeof SCHEMES)[number];

export const profileSchema = z
  .object({
    /** Periodic check every N minutes (default 60 when no time of day is set). */
    updateFrequencyMinutes: z.number().int().min(1).optional(),
    /** Daily check at 'hh:mm' instead of the periodic one. */
    updateTime: z.string().regex(HHMM, "must be 'hh:mm'").optional(),
    /** Random delay after updateTime, in seconds (spreads a fleet's load on the server). */
    updateRandomSeconds: z.number().int().min(0).default(300),
    /** AUPDCheckIfIniChanged written into every ini (0 off, 1 CRC of the file, 2 CRC per line). */
    checkIfIniChanged: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    /** The transport the URLs inside the ini use. */
    scheme: z.enum(SCHEMES).default('http'),
    /** The bytes of the served ini: `latin1` for a template imported from a latin-1 export (import-ini sets it). */
    iniEncoding: z.enum(INI_ENCODINGS).default('utf8'),
  })
  .strict()
  .refine((s) => !(s.updateTime && s.updateFrequencyMinutes), { message: 'set updateTime or updateFrequencyMinutes, not both' });
export type AudioCodesProfileSettings = z.infer<typeof profileSchema>;

/** Variables (profile vars, then group, then device) that override the settings, with their documented names. */
export const VARS = {
  frequency: 'update_frequency_minutes',
  time: 'update_time',
  random: 'update_random_seconds',
  scheme: 'update_scheme',
} as const;

/** A device's AudioCodes settings cannot produce a working ini (scheme without its server, no MAC…). */
export class SettingsError extends ApsError {
  constructor(message: string) {
    super('render_failed', message);
    this.name = 'SettingsError';
  }
}

function intVar(vars: Readonly<Record<string, string>>, name: string, min: number): number | undefined {
  const raw = vars[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new SettingsError(`variable ${name} must be a whole number >= ${min}`);
  return n;
}

/**
 * The schedule for one device: a variable time of day wins, then the device's maintenance window (a daily
 * check at its start, spread at most over its length: the core serves changes only inside it), then a
 * variable frequency, then the profile's time, then its frequency, then every 60 minutes.
 */
export function scheduleOf(
  settings: AudioCodesProfileSettings,
  vars: Readonly<Record<string, string>>,
  window?: Pick<DeviceWindow, 'startTime' | 'minutes'>,
): UpdateSchedule {
  const random = intVar(vars, VARS.random, 0) ?? settings.updateRandomSeconds;
  const time = vars[VARS.time]?.trim();
  if (time) {
    if (!HHMM.test(time)) throw new SettingsError(`variable ${VARS.time} must be 'hh:mm'`);
    return { kind: 'daily', time, randomSeconds: random };
  }
  if (window?.startTime) {
    const room = Math.max(0, ((window.minutes ?? 1) - 1) * 60);
    return { kind: 'daily', time: window.startTime, randomSeconds: Math.min(random, room) };
  }
  const minutes = intVar(vars, VARS.frequency, 1);
  if (minutes !== undefined) return { kind: 'frequency', minutes };
  if (settings.updateTime) return { kind: 'daily', time: settings.updateTime, randomSeconds: random };
  return { kind: 'frequency', minutes: settings.updateFrequencyMinutes ?? 60 };
}

export function schemeOf(settings: AudioCodesProfileSettings, vars: Readonly<Record<string, string>>): Scheme {
  const v = vars[VARS.scheme]?.trim().toLowerCase();
  if (!v) return settings.scheme;
  if (!(SCHEMES as readonly string[]).includes(v)) throw new SettingsError(`variable ${VARS.scheme} must be one of ${SCHEMES.join(', ')}`);
  return v as Scheme;
}

/** Catalog roles (`aps artifact add F --kind aux --role ROLE`) and the auxiliary file each one is. */
export const AUX_ROLES: Readonly<Record<string, AuxKind>> = {
  cpt: 'cpt',
  prt: 'prt',
  vp: 'vp',
  'feature-key': 'featureKey',
  'tls-root': 'tlsRoot',
  'tls-cert': 'tlsCert',
  'user-info': 'userInfo',
  'fxs-coeff': 'fxsCoeff',
  'fxo-coeff': 'fxoCoeff',
};
