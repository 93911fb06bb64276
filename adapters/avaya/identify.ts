// Who is asking (protocols.md §(b) "HTTP request behaviour"): Avaya phones send no MAC in their requests
// except in the name of their own file, $MACADDR.txt (12 lower-case hex digits, a J129 field capture).
// Their User-Agent starts with "AVAYA"; a third-party test [U] has `AVAYA/96x1-IPT-SIP-R7_1_15_0_4 9608`
// (product-release, then the model), so the parser takes what it finds and never insists.
// identifyPhone turns a per-phone request into a device or a refusal reason; rememberAddress keeps the phones
// identified at each address (phonesAt), among which http.ts attribute() credits a shared file (scripts,
// settings, binaries) to the one it can be, or to none.
import {
  normalizeMac,
  type AccessPolicy,
  type AdapterContext,
  type Identified as IdentifiedRequest,
  type DeviceRecord,
  type AdapterState,
  type Logger,
  type Profile,
} from '../../src/adapter-api.ts';
import { REALM } from './access.ts';
import { avayaProfiles, NAME } from './files.ts';
import type { AvayaConfig } from './settings.ts';

export interface AvayaAgent {
  /** The word after "AVAYA/" up to its release, e.g. "96x1-IPT-SIP"; null when absent. */
  product: string | null;
  /** The release, e.g. "R7_1_15_0_4" (or "7.1.15.0.4"); null when none is recognisable. */
  firmware: string | null;
  /** The model, e.g. "9608" or "J179"; null when absent. */
  model: string | null;
}

/**
 * The release a phone running this image puts in its User-Agent ("R7_1_15_0_4"): taken from the
 * artifact's version, else its file name ("FW_S_J179_R4_1_1_0_7.bin"), dots written as underscores.
 */
export function releaseOfImage(a: { version: string; filename: string }): string | undefined {
  const fromVersion = releaseIn(a.version);
  const fromFile = releaseIn(a.filename);
  // A version given short ("7.1.15") names the same release as the file's full one ("R7_1_15_0_4"), which is
  // what the phone reports: the longer wins when it extends the shorter.
  if (fromVersion && fromFile?.startsWith(`${fromVersion}_`)) return fromFile;
  return fromVersion ?? fromFile;
}

function releaseIn(text: string): string | undefined {
  const m = /R?(\d+(?:[._]\d+)+)/i.exec(text);
  return m ? `R${m[1]!.replace(/\./g, '_')}` : undefined;
}

/**
 * A release as the phone reports it, in the form releaseOfImage gives ("4.1.1.0.7" and "R4_1_1_0_7" are the
 * same release): what is stored and compared. Anything not shaped like a release is kept as it is.
 */
export function normalRelease(reported: string): string {
  return releaseIn(reported) ?? reported;
}

/** Parses an Avaya User-Agent; null when it does not start with "AVAYA". */
export function parseAvayaUserAgent(ua: string | undefined | null): AvayaAgent | null {
  if (!ua || !/^AVAYA\b/i.test(ua.trim())) return null;
  const words = ua.trim().split(/\s+/);
  const head = words[0]!.replace(/^AVAYA\/?/i, '');
  // The release is the last "-"-separated part shaped like one ("R7_1_15_0_4", "4.1.1.0.7"); "96x1" is not.
  const parts = head ? head.split('-') : [];
  let at = -1;
  parts.forEach((p, i) => {
    if (/^R?\d+[._]\d/i.test(p)) at = i;
  });
  const firmware = at >= 0 ? parts.slice(at).join('-') : null;
  const product = (at >= 0 ? parts.slice(0, at) : parts).join('-') || null;
  const model = words.slice(1).find((w) => /^[A-Za-z]?\d{2,4}[A-Za-z]{0,4}$/.test(w)) ?? null;
  return { product, firmware, model };
}

/** The MAC of a per-phone file name ("c81fea9b650d.txt"), lower case; null for any other name. */
export function macOfPhoneFile(file: string): string | null {
  const m = /^([0-9A-Fa-f]{12})\.txt$/.exec(file);
  return m ? normalizeMac(m[1]!) : null;
}

export type IdentifyCtx = Pick<AdapterContext<AvayaConfig>, 'config' | 'devices' | 'profiles' | 'state' | 'log' | 'events'>;

export function isAvayaDevice(ctx: Pick<IdentifyCtx, 'profiles'>, d: DeviceRecord | undefined): d is DeviceRecord {
  return d !== undefined && ctx.profiles.get(d.profile)?.adapter === NAME;
}

/**
 * Per-phone requests: Basic credentials are optional (a phone sends its registration password when
 * challenged over TLS) and, when sent, must be this phone's (its id or MAC); they unlock its secret lines
 * (access.ts). An unknown MAC is a 404 (401 when credentials came, at the cost of a real check).
 */
export const PHONE_POLICY: AccessPolicy = { realm: REALM, schemes: ['basic'], password: 'when-sent', unknownStatus: 404 };

/**
 * The identify step of a per-phone request: the MAC in its path. An unknown MAC asked by an Avaya phone
 * is registered as a pending device when the site allows it; ctx.access.admit() then does the rest.
 */
export function identifyPhone(
  ctx: IdentifyCtx,
  mac: string,
  req: { ip?: string; userAgent?: string },
  o: { register: boolean },
): IdentifiedRequest {
  const device = ctx.devices.getByMac(mac);
  if (!device && o.register) registerPending(ctx, mac, req);
  return { device: isAvayaDevice(ctx, device) ? device : undefined, claim: `MAC ${mac}` };
}

function pendingProfile(ctx: IdentifyCtx, model: string | null): Profile | undefined {
  const all = avayaProfiles(ctx);
  const byModel = model ? all.find((p) => p.models.some((m) => m.toLowerCase() === model.toLowerCase())) : undefined;
  return byModel ?? (ctx.config.pendingProfile ? ctx.profiles.get(ctx.config.pendingProfile) : undefined) ?? all[0];
}

/** Registers an unknown phone as pending, with what it sent (model and firmware from its User-Agent, address). */
function registerPending(ctx: IdentifyCtx, mac: string, req: { ip?: string; userAgent?: string }): void {
  if (ctx.config.unknownPhones !== 'pending') return;
  const ua = parseAvayaUserAgent(req.userAgent);
  // Only what presents itself as an Avaya phone registers: a scan of MAC-shaped names with curl fills no list.
  if (!ua) {
    ctx.log.info({ mac }, 'unknown MAC without an Avaya User-Agent: not registered');
    return;
  }
  const profile = pendingProfile(ctx, ua.model);
  // The id is the MAC; never take over an id another device already uses.
  if (!profile || ctx.devices.get(mac)) return;
  const waiting = ctx.devices.countPending();
  if (waiting >= ctx.config.maxPending) {
    ctx.log.warn(
      { mac, pending: waiting, maxPending: ctx.config.maxPending },
      'unknown phone not registered: maxPending phones already wait',
    );
    return;
  }
  const model = ua.model && profile.models.some((m) => m === ua.model) ? ua.model : null;
  try {
    ctx.devices.upsert({ id: mac, profile: profile.name, mac, model, status: 'pending' }, 'create');
  } catch (e) {
    // Another family's device uses this id, or a concurrent request registered it first: nothing to add.
    ctx.log.warn({ mac, err: (e as Error).message }, 'unknown phone not registered');
    return;
  }
  ctx.events.report({
    deviceId: mac,
    ip: req.ip ?? null,
    ua: req.userAgent ?? null,
    reported: { ...(ua.model ? { model: ua.model } : {}), ...(ua.firmware ? { firmware: ua.firmware } : {}) },
  });
  ctx.log.info({ device: mac, profile: profile.name }, 'unknown phone registered as pending');
}

const BY_IP = 'ip:';
const BY_IP_TTL_MS = 24 * 3600_000;
/** Phones remembered per address: behind NAT (or in a lab) several boot from one. */
const PER_IP = 16;

/** How often an unchanged address entry is written again, so a phone that keeps its address keeps its entry. */
const BY_IP_REFRESH_MS = 3600_000;

interface AddressEntry {
  ids: string[];
  at: number;
}

/** Remembers the address a phone was identified at, so its shared-file requests can be attributed. */
export function rememberAddress(state: AdapterState, ip: string | undefined, deviceId: string, now = Date.now()): void {
  if (!ip) return;
  const known = entryAt(state, ip);
  if (known.ids[0] === deviceId && now - known.at < BY_IP_REFRESH_MS) return;
  const ids = [deviceId, ...known.ids.filter((x) => x !== deviceId)].slice(0, PER_IP);
  state.set(BY_IP + ip, { ids, at: now } satisfies AddressEntry, BY_IP_TTL_MS);
}

function entryAt(state: AdapterState, ip: string): AddressEntry {
  const v = state.get<string | string[] | AddressEntry>(BY_IP + ip);
  // A string or an array: written by an earlier APS (one phone, then several without a date).
  if (typeof v === 'string') return { ids: [v], at: 0 };
  if (Array.isArray(v)) return { ids: v, at: 0 };
  return v && Array.isArray(v.ids) ? v : { ids: [], at: 0 };
}

/** The phones identified at this address, the latest first (for events and reported state only: never for access). */
export function phonesAt(ctx: Pick<IdentifyCtx, 'state' | 'devices' | 'profiles'>, ip: string | undefined): DeviceRecord[] {
  if (!ip) return [];
  return entryAt(ctx.state, ip)
    .ids.map((id) => ctx.devices.get(id))
    .filter((d): d is DeviceRecord => isAvayaDevice(ctx, d));
}

/** Records what a phone's User-Agent says it is and runs. */
export function reportAgent(
  ctx: Pick<IdentifyCtx, 'events'>,
  deviceId: string,
  ip: string | undefined,
  userAgent: string | undefined,
): void {
  const ua = parseAvayaUserAgent(userAgent);
  if (!ua || (!ua.firmware && !ua.model)) return;
  ctx.events.report({
    deviceId,
    ip: ip ?? null,
    ua: userAgent ?? null,
    reported: {
      ...(ua.firmware ? { firmware: ua.firmware } : {}),
      ...(ua.model ? { model: ua.model } : {}),
      ...(ua.product ? { product: ua.product } : {}),
    },
  });
}

export type { Logger };
