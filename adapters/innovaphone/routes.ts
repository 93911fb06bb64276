// The device-facing routes under /innovaphone: the update script, the firmware / boot code / BMC files it
// names, the device's config, and (backup.ts) the scfg PUT.
import type { Request, RequestHandler, Response } from 'express';
import {
  isApsError,
  renderDeviceConfig,
  type AccessPolicy,
  type AdapterContext,
  type DeviceRecord,
  type DeviceRequestInfo,
  type Identified,
} from '../../src/adapter-api.ts';
import { BMC_ROLE, CONFIG_FILE, innovaphoneFiles, settingsOf, type Services } from './files.ts';
import {
  identifyByMac,
  identifyUpdate,
  parseUpdatePath,
  reportedState,
  standardArgs,
  type Identity,
  type IdentifyLookup,
} from './identify.ts';
import { NAME, standardNames, type InnovaphoneConfig } from './settings.ts';

export type Ctx = AdapterContext<InnovaphoneConfig> & Services;

/** Binds identification's lookups to the registry and the profiles (product names cached per profile file). */
export function lookupOf(s: Pick<Services, 'devices' | 'profiles'>): IdentifyLookup {
  const productOf = (name: string): string | undefined => {
    const p = s.profiles.get(name);
    return p && p.adapter === NAME ? standardNames(settingsOf(s, name)).product : undefined;
  };
  return {
    deviceByMac: (mac) => s.devices.getByMac(mac),
    deviceById: (id) => s.devices.get(id),
    productOf,
    profileOfProduct: (product) =>
      s.profiles
        .list()
        .filter((p) => p.adapter === NAME)
        .find((p) => productOf(p.name) === product)?.name,
  };
}

// Whatever goes wrong inside (a bug, a setting that cannot render), the device gets a bare 500 and the log
// the reason; never a stack trace, never a crashed process. A configuration refusal (a host name where the
// device needs an IP address) is an error the admin must fix, logged with the setting it names.
export function guarded(ctx: Ctx, h: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req, res) => {
    try {
      await h(req, res);
    } catch (err) {
      if (isApsError(err)) ctx.log.error({ path: req.path, code: err.code }, err.message);
      else ctx.log.error({ err, path: req.path }, 'innovaphone request failed');
      // Every answer is an event (invariant 5): the reason, never a value, as the operator's to fix.
      ctx.events.record({
        adapter: NAME,
        deviceId: null,
        file: 'request',
        status: 500,
        ip: req.ip ?? null,
        ua: req.get('user-agent') ?? null,
        detail: isApsError(err) ? `failed: ${err.message}` : 'internal error',
      });
      if (!res.headersSent) res.status(500).type('text/plain').send('Internal Server Error\n');
      else res.destroy();
    }
  };
}

/**
 * The shared identify → authenticate → refuse step (ctx.access.admit). Credentials are optional per device
 * (seed 003: the update client runs unauthenticated unless its HTTP-Client settings carry some): a device
 * with a password must send them (Digest or Basic, user = its id or MAC), one without is served as is.
 * `allowPending`: the script and firmware (the product-wide part) go to pending devices too.
 */
export function policyOf(ctx: Ctx, allowPending: boolean): AccessPolicy {
  return { realm: ctx.config.realm, schemes: ['digest', 'basic'], password: 'if-set', unknownStatus: 401, allowPending };
}

/** identify.ts's answer in the shape the core's admit() takes. */
export function identified(who: Identity, claim: string): Identified {
  if (who.kind === 'device') return { device: who.device, claim };
  if (who.kind === 'refused' && who.status === 401) return { device: undefined, claim: `${claim} (${who.reason})` };
  if (who.kind === 'refused') return { device: undefined, claim, refuse: { status: who.status, reason: who.reason } };
  return { device: undefined, claim };
}

/** admit() for a request that names its device by MAC in the path (`/fw/<mac>/…`, `/cfg/<mac>/…`, backups). */
export function admitByMac(
  ctx: Ctx,
  req: Request,
  res: Response,
  info: DeviceRequestInfo,
  allowPending: boolean,
): Promise<DeviceRecord | undefined> {
  const mac = String(req.params.mac);
  return ctx.access.admit(req, res, info, identified(identifyByMac(mac, lookupOf(ctx)), `MAC ${mac}`), policyOf(ctx, allowPending));
}

function registerPending(ctx: Ctx, who: Identity & { kind: 'unknown' }): DeviceRecord | undefined {
  const waiting = ctx.devices.countPending();
  if (waiting >= ctx.config.maxPending) {
    ctx.log.warn(
      { mac: who.mac, pending: waiting, maxPending: ctx.config.maxPending },
      'unknown device not registered: maxPending devices already wait',
    );
    return undefined;
  }
  try {
    const device = ctx.devices.upsert({ id: who.id, profile: who.profile, mac: who.mac, status: 'pending' }, 'create');
    ctx.log.info({ device: who.id, profile: who.profile }, 'unknown innovaphone device registered as pending');
    return device;
  } catch (e) {
    // Two first polls of the same device at once: the other one registered it.
    if (isApsError(e) && e.code === 'conflict') return ctx.devices.getByMac(who.mac);
    throw e;
  }
}

/** GET /up/<#m>[/<#h>/<#t>/<#i>]/update-<product>.htm?PROT=…: the update script. */
export function updateHandler(ctx: Ctx): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'update' };
    const segments = ([] as string[]).concat(req.params.path ?? []);
    const parsed = parseUpdatePath(segments);
    if (!parsed.ok) return ctx.files.deny(req, res, 404, parsed.reason, info);
    const who = identifyUpdate(parsed.value, lookupOf(ctx), { refuseUnknown: ctx.config.refuseUnknown });
    const claim = `MAC ${parsed.value.mac}`;
    const found = who.kind === 'unknown' ? registerPending(ctx, who) : undefined;
    const device = await ctx.access.admit(req, res, info, found ? { device: found, claim } : identified(who, claim), policyOf(ctx, true));
    if (!device) return;
    const args = standardArgs(req.query as Record<string, unknown>);
    ctx.events.report({ deviceId: device.id, ip: req.ip, ua: req.get('user-agent') ?? null, reported: reportedState(parsed.value, args) });
    const files = innovaphoneFiles(ctx, device, { firmware: args.PROT || args.ver, boot: args.BOOT, bmc: args.BMC }, req.secure);
    await ctx.files.sendRendered(req, res, files.script, info, 'text/plain; charset=us-ascii');
  };
}

/** GET /fw/<mac>/<artifact id>/<standard name>: firmware, boot code or BMC, only the device's current target. */
export function artifactHandler(ctx: Ctx): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'firmware' };
    const device = await admitByMac(ctx, req, res, info, true);
    if (!device) return;
    const names = standardNames(settingsOf(ctx, device.profile));
    const name = String(req.params.name).toLowerCase();
    const id = Number(req.params.id);
    const slots: Array<[string, string | null, () => ReturnType<Ctx['catalog']['target']>]> = [
      ['firmware', names.firmware, () => ctx.catalog.target(device, 'firmware')],
      ['bootstrap', names.boot, () => ctx.catalog.target(device, 'bootstrap')],
      ['bmc', names.bmc, () => ctx.catalog.target(device, 'aux', BMC_ROLE)],
    ];
    const slot = slots.find(([, n]) => n === name);
    if (!slot) return ctx.files.deny(req, res, 404, `not a standard file name of ${names.product}`, info);
    info.file = slot[0];
    const target = slot[2]();
    // Only what the device should load now: an artifact id from an older script, or one of another
    // profile, is not served (the device fails this time and reads the new script on its next poll).
    if (!target || target.id !== id)
      return ctx.files.deny(req, res, 404, `artifact ${String(req.params.id)} is not the device's ${slot[0]} target`, info);
    await ctx.files.sendArtifact(req, res, target, info);
  };
}

/** GET /cfg/<mac>/config.txt: the device's configuration (template or its own config artifact, e.g. a restored backup). */
export function configHandler(ctx: Ctx): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'config' };
    if (String(req.params.name).toLowerCase() !== CONFIG_FILE) return ctx.files.deny(req, res, 404, 'unknown file', info);
    const device = await admitByMac(ctx, req, res, info, false);
    if (!device) return;
    const config = renderDeviceConfig(ctx, device);
    if (!config) return ctx.files.deny(req, res, 404, 'no config for this device', info);
    await ctx.files.sendRendered(req, res, config, info, settingsOf(ctx, device.profile).configContentType);
  };
}
