// What a site can set: the adapter's section of aps.yaml and a profile's `settings`. Device and group
// variables override the update window (VARS below), so a group's window wins over its profile's.
import { z } from 'zod';
import { FINAL_COMMANDS } from './render.ts';

export const NAME = 'innovaphone';

export const configSchema = z
  .object({
    /**
     * The IP address devices reach APS at, written into every URL when the public URL names a host:
     * innovaphone URLs do not support host names (seed 003).
     */
    address: z.union([z.ipv4(), z.ipv6()]).optional(),
    /** Refuse devices APS does not know instead of registering them as pending. */
    refuseUnknown: z.boolean().default(false),
    /** At most this many self-registered devices wait for approval; more are refused with a log line. */
    maxPending: z.number().int().min(0).default(1000),
    /** Largest backup (scfg PUT) accepted, in bytes (413 beyond). */
    maxBackupBytes: z
      .number()
      .int()
      .min(1)
      .default(1024 * 1024),
    /** Realm of the optional HTTP Digest challenge for devices that have a password. */
    realm: z.string().min(1).default('APS innovaphone'),
  })
  .strict();
export type InnovaphoneConfig = z.infer<typeof configSchema>;

const finalCommand = z.enum(FINAL_COMMANDS);
const HOURS = z.array(z.number().int().min(0).max(23)).min(1);

export const profileSchema = z
  .object({
    /** The product name the device reports (Configuration/General/Info first line), e.g. IP1200. */
    product: z.string().regex(/^[A-Za-z][A-Za-z0-9]{1,31}$/),
    /** Standard file names; defaults follow the product (update-ip1200.htm, ip1200.bin, boot1200.bin). */
    updateName: z.string().optional(),
    firmwareName: z.string().optional(),
    bootName: z.string().optional(),
    /** DECT radio code (BMC) file name as the device appends it, without `.bin` (seed "Bmc command"); DECT products only. */
    bmcName: z.string().optional(),
    /** IP72 and other WLAN phones: power save off around downloads. */
    wlan: z.boolean().default(false),
    /** Final command per command (seed defaults: ireset for downloads, ireboot after boot code, no-op after a backup). */
    finals: z
      .object({
        boot: finalCommand.default('ireboot'),
        prot: finalCommand.default('ireset'),
        bmc: finalCommand.default('ireset'),
        cfg: finalCommand.default('ser'),
        scfg: finalCommand.default('no-op'),
        check: finalCommand.default('iresetn'),
      })
      .strict()
      .prefault({}),
    /** The update window: hours the script may run (`times /allow`), and minutes after boot it may not (`/initial`). */
    allowHours: HOURS.optional(),
    initialMinutes: z.number().int().min(0).optional(),
    backups: z
      .object({
        enabled: z.boolean().default(true),
        /** Rolling backup index n (`#b<n>`: slots 0..n-1, seed "SCFG command"). */
        slots: z.number().int().min(1).max(9).default(5),
        /** `/force <hours>`: back up again after this long even when nothing changed (168: weekly, as the seed's example). */
        forceHours: z.number().int().min(1).default(168),
      })
      .strict()
      .prefault({}),
    configContentType: z.string().default('text/plain; charset=utf-8'),
  })
  .strict();
export type InnovaphoneProfileSettings = z.infer<typeof profileSchema>;

/** Device, group or profile variables that override the update window. */
export const VARS = {
  allow: 'update_allow_hours',
  initial: 'update_initial_minutes',
  /** Comma-separated IP addresses or CIDR ranges a backup PUT may come from (usually a group variable). */
  backupAllow: 'backup_allow_ips',
} as const;

/** The standard names a product's device appends to a URL ending in `/` (seed 003, protocols.md §(c)). */
export interface StandardNames {
  product: string;
  update: string;
  firmware: string;
  boot: string;
  bmc: string | null;
}

export function standardNames(s: InnovaphoneProfileSettings): StandardNames {
  const p = s.product.toLowerCase();
  const digits = p.replace(/^[a-z]+/, '');
  return {
    product: p,
    update: (s.updateName ?? `update-${p}.htm`).toLowerCase(),
    firmware: (s.firmwareName ?? `${p}.bin`).toLowerCase(),
    boot: (s.bootName ?? `boot${digits || p}.bin`).toLowerCase(),
    bmc: s.bmcName?.toLowerCase() ?? null,
  };
}

/** `23,0,1` → [23, 0, 1]; throws on anything else. */
export function parseHours(text: string, what: string): number[] {
  const out = text.split(',').map((h) => h.trim());
  const hours = out.map(Number);
  if (out.some((h) => !/^\d{1,2}$/.test(h)) || hours.some((h) => h > 23))
    throw new Error(`${what} must be hours 0..23 separated by commas`);
  return hours;
}
