// Who is asking, from what the request says: pure functions over the path, the query and lookups the
// caller passes in (no I/O here), so the core's shared "identify → authenticate → refuse" helper can call
// them. protocols.md §(c): the device appends its standard name (`update-ip1200.htm`, any case) to an
// update URL ending in `/`, replaces the placeholders (#m MAC, #h hardware id, #t type, #i IP) in it, and
// adds its standard query arguments (PROT, BOOT, BMC, CFG, SCFG, CHECK, their …date twins, ver).
import { isIP } from 'node:net';
import { normalizeMac, type DeviceRecord } from '../../src/adapter-api.ts';

/** The standard query arguments (official server's `<stdargs>`), as the device names them. */
export const STD_ARGS = ['PROT', 'BOOT', 'BMC', 'CFG', 'SCFG', 'CHECK', 'CFG-BACKUP-NUM'] as const;

export interface UpdateRequest {
  /** 12 lower-case hex digits (#m). */
  mac: string;
  /** Lower-case product short name from the standard name: `update-ip1200.htm` → `ip1200`. */
  product: string;
  /** #h, #t, #i when the update URL carries them. */
  hardware?: string;
  type?: string;
  ip?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const STANDARD_NAME = /^update-([a-z][a-z0-9]{1,31})(?:\.[a-z]{1,4})?$/i;
// #h: product, then the last three bytes of the MAC (seed: IP1200-03-0d-f0).
const HARDWARE = /^([a-z][a-z0-9]*)-([0-9a-f]{2})-([0-9a-f]{2})-([0-9a-f]{2})$/i;

/** A placeholder the device left as it was (a firmware that lacks it): `#t` or its encoded form. */
function unsubstituted(segment: string): boolean {
  return segment === '' || segment.startsWith('#') || segment.toLowerCase().startsWith('%23');
}

/**
 * The update URL's path below `/up/`: `<#m>[/<#h>][/<#t>][/<#i>]/<standard name>`. The middle segments
 * are told apart by their form (a hardware id, an IP address, anything else is the type), so a site may
 * leave any of them out of the URL it configures.
 */
export function parseUpdatePath(segments: readonly string[]): Parsed<UpdateRequest> {
  if (segments.length < 2 || segments.length > 5) return { ok: false, reason: 'not an update URL (MAC, optional #h #t #i, standard name)' };
  const mac = normalizeMac(segments[0]!);
  if (mac === null) return { ok: false, reason: 'no MAC (#m) in the update URL' };
  const name = STANDARD_NAME.exec(segments[segments.length - 1]!);
  if (!name) return { ok: false, reason: 'not a standard update file name (update-<product>.htm)' };
  const out: UpdateRequest = { mac, product: name[1]!.toLowerCase() };
  for (const s of segments.slice(1, -1)) {
    if (unsubstituted(s)) continue;
    if (HARDWARE.test(s)) out.hardware = s;
    else if (isIP(s) !== 0) out.ip = s;
    else if (/^[A-Za-z0-9._-]{1,64}$/.test(s)) out.type = s;
    else return { ok: false, reason: 'malformed segment in the update URL' };
  }
  if (out.hardware !== undefined) {
    const h = HARDWARE.exec(out.hardware)!;
    // A hardware id names the product and the MAC's last three bytes: one that disagrees with the MAC
    // in the same URL is a made-up request, never a real device's.
    if (h[1]!.toLowerCase() !== out.product || `${h[2]}${h[3]}${h[4]}`.toLowerCase() !== mac.slice(6)) {
      return { ok: false, reason: `hardware id ${out.hardware} does not match the MAC and product in the URL` };
    }
  }
  return { ok: true, value: out };
}

/** The standard query arguments as sent (first value of each; anything else ignored). */
export function standardArgs(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...STD_ARGS.flatMap((a) => [a, `${a}date`]), 'ver']) {
    const v = query[name];
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s === 'string' && s.length <= 256) out[name] = s;
  }
  return out;
}

/**
 * What the device reports about itself, for `ctx.events.report`. `firmware` (the fleet view's key) is the
 * build serial of the last prot download (UPDATE/PROT), or the running version (`ver`) when that is empty:
 * exactly what the device itself compares a prot command's serial with (seed "Prot command").
 */
export function reportedState(req: UpdateRequest, args: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { product: req.product };
  const firmware = args.PROT || args.ver;
  if (firmware) out.firmware = firmware;
  if (args.ver) out.version = args.ver;
  const names: Record<string, string> = {
    BOOT: 'boot',
    BMC: 'bmc',
    CFG: 'config',
    SCFG: 'backupSerial',
    CHECK: 'check',
    'CFG-BACKUP-NUM': 'backupIndex',
  };
  for (const [arg, key] of Object.entries({ PROT: 'prot', ...names })) {
    if (args[arg] !== undefined) out[key] = args[arg];
    if (args[`${arg}date`] !== undefined) out[`${key}Date`] = args[`${arg}date`];
  }
  if (req.hardware) out.hardwareId = req.hardware;
  if (req.type) out.type = req.type;
  if (req.ip) out.ip = req.ip;
  return out;
}

/** What identification needs from the registry and the profiles; the caller binds it to the core. */
export interface IdentifyLookup {
  deviceByMac(mac: string): DeviceRecord | undefined;
  deviceById(id: string): DeviceRecord | undefined;
  /** The product short name of an innovaphone profile; undefined when the profile is not this adapter's. */
  productOf(profile: string): string | undefined;
  /** The innovaphone profile for unknown devices of a product, if any. */
  profileOfProduct(product: string): string | undefined;
}

export type Identity =
  | { kind: 'device'; device: DeviceRecord }
  /** A device APS has not seen, of a product it knows: the caller registers it as pending (or refuses). */
  | { kind: 'unknown'; id: string; mac: string; profile: string }
  | { kind: 'refused'; status: 401 | 403 | 404; reason: string };

/** The id a self-registered device gets: its MAC (12 hex digits), as `aps device add … --mac` would key it. */
export function pendingId(mac: string): string {
  return mac;
}

/** An update-script request → the device, an unknown device to register, or a refusal with its reason. */
export function identifyUpdate(req: UpdateRequest, look: IdentifyLookup, o: { refuseUnknown: boolean }): Identity {
  const device = look.deviceByMac(req.mac);
  if (device) {
    const product = look.productOf(device.profile);
    // A MAC another adapter's device has, or one whose profile is gone: not ours, and nothing is said about it.
    if (product === undefined) return { kind: 'refused', status: 401, reason: `MAC ${req.mac} belongs to a device of another adapter` };
    if (product !== req.product)
      return { kind: 'refused', status: 401, reason: `device ${device.id} is a ${product}, the request names ${req.product}` };
    return { kind: 'device', device };
  }
  const profile = look.profileOfProduct(req.product);
  if (profile === undefined)
    return { kind: 'refused', status: 401, reason: `unknown MAC ${req.mac} of product ${req.product}, which no profile serves` };
  if (o.refuseUnknown) return { kind: 'refused', status: 401, reason: `unknown MAC ${req.mac} (refuseUnknown is set)` };
  const id = pendingId(req.mac);
  if (look.deviceById(id)) return { kind: 'refused', status: 401, reason: `unknown MAC ${req.mac}: device id ${id} is taken` };
  return { kind: 'unknown', id, mac: req.mac, profile };
}

/** A per-device file request (`/fw/<mac>/…`, `/cfg/<mac>/…`, `/backup/<mac>/…`) → its device, or a refusal. */
export function identifyByMac(macSegment: string, look: IdentifyLookup): Identity {
  const mac = normalizeMac(macSegment);
  if (mac === null) return { kind: 'refused', status: 404, reason: 'no MAC in the URL' };
  const device = look.deviceByMac(mac);
  if (!device || look.productOf(device.profile) === undefined) return { kind: 'refused', status: 401, reason: `unknown MAC ${mac}` };
  return { kind: 'device', device };
}
