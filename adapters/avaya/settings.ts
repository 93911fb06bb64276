// What a site can set: the adapter's section of aps.yaml, a profile's `settings`, and the variables with
// a meaning of their own (lower case, so they never become SET lines).
import { z } from 'zod';
import { sipPushConfig } from '../../src/adapter-api.ts';

/** The upgrade script names the phone families request (protocols.md §(b) "File chain", step 1). */
export const DOCUMENTED_SCRIPTS = [
  '46xxupgrade.scr', // 4600 H.323
  '96xxupgrade.txt', // 9600 SIP
  '96x1Supgrade.txt', // 96x1 SIP [U]: the name comes from Avaya's 96x1 bundles and a third-party test
  '96x1Hupgrade.txt', // 96x1 H.323 [U]
  '16xxupgrade.txt', // 1600 (and the 16CC, whose own script name no source gives)
  'J100Supgrade.txt', // J100 SIP
] as const;

/** The settings file the generated scripts GET, and the older names sample scripts GET (all the same bytes). */
export const SETTINGS_FILE = '46xxsettings.txt';
export const SETTINGS_ALIASES = ['46xxsettings.txt', '46xxsettings.scr', '16xxsettings.txt'] as const;

const SCRIPT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PARAM = /^[A-Z][A-Z0-9_]*$/;

export const configSchema = z
  .object({
    /** A phone APS does not know that fetches its $MACADDR.txt: registered as pending (approve with `aps device set ID --status active`) or refused. */
    unknownPhones: z.enum(['pending', 'refuse']).default('pending'),
    /** The profile pending phones get when their User-Agent names no model of a profile (default: the first avaya profile). */
    pendingProfile: z.string().optional(),
    maxPending: z.number().int().min(0).default(1000),
    /** Largest BRURI backup a phone may PUT, in bytes. */
    backupMaxBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    // sipTimers and sipAdvertisedHost for `aps notify` (SIP NOTIFY check-sync).
    ...sipPushConfig,
  })
  .strict();
export type AvayaConfig = z.infer<typeof configSchema>;

export const profileSchema = z
  .object({
    /** The upgrade script name(s) this family's phones request; several profiles may share one name. */
    upgradeScripts: z.array(z.string().regex(SCRIPT_NAME)).default([]),
    /**
     * Companion binaries a model needs beside APPNAME, as parameter → catalog role of an `aux` artifact,
     * e.g. { JEM24_APPNAME: jem24 } (the J100 button module firmware). The artifact's models say which phones get it.
     */
    companions: z.record(z.string().regex(PARAM), z.string().regex(/^[a-z0-9-]{1,32}$/)).default({}),
  })
  .strict();
export type AvayaProfileSettings = z.infer<typeof profileSchema>;

/** Variables with a meaning for the adapter (profile ⊕ group ⊕ device, lower case: never SET lines). */
export const VARS = {
  /** The group's GROUP number (0-999) as the phones have it; a group named "0".."999" needs none. */
  groupNumber: 'avaya_group',
  /** CIDR list (comma or blank separated) whose clients get per-phone secret lines without credentials. */
  secretNetworks: 'avaya_secret_networks',
  /** "1"/"true"/"yes": per-phone secret lines may travel over plain HTTP (old phones, closed labs). */
  secretsOverHttp: 'avaya_secrets_over_http',
} as const;

/** The Avaya GROUP number of a group: its avaya_group variable, else its name when that is 0-999; null otherwise. */
export function groupNumber(name: string, vars: Readonly<Record<string, string>>): number | null {
  const raw = (vars[VARS.groupNumber] ?? '').trim() || name;
  if (!/^\d{1,3}$/.test(raw)) return null;
  return Number(raw);
}

export function truthy(v: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test((v ?? '').trim());
}
