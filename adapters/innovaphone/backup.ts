// PUT /backup/<#m>/<token>/<#bn>/<#d>: the device's configuration upload (seed 003 "SCFG command": an
// HTTP PUT, chunked, usually unauthenticated; #m the MAC, #bn the rolling backup index, #d the date and
// time). Stored by the core backup store (atomic, sealed, never overwriting another, idempotent for a
// retried identical PUT). Accepted only for a known, active device, only into its own slot: the token in
// the URL is the one APS wrote into that device's script, so another device's MAC, a guessed URL or a
// PUT for a device APS has not approved stores nothing.
import { BlockList, isIP } from 'node:net';
import type { Request, Response } from 'express';
import { deviceVars, type DeviceRequestInfo } from '../../src/adapter-api.ts';
import { timingSafeEqual } from 'node:crypto';
import { backupToken, settingsOf } from './files.ts';
import { identifyByMac } from './identify.ts';
import { identified, lookupOf, policyOf, type Ctx } from './routes.ts';
import { NAME, VARS } from './settings.ts';

const DATE = /^\d{8}-\d{6}$/;

/** `::ffff:10.0.0.1` (an IPv4 client of a dual-stack socket) as `10.0.0.1`. */
function plainIp(ip: string | undefined): string {
  const s = ip ?? '';
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(s) ? s.slice(7) : s;
}

/**
 * The group's (or device's, or profile's) allow-list of addresses a backup may come from: IP addresses
 * and CIDR ranges, comma separated. Undefined when none is set; throws naming the variable when malformed.
 */
export function allowList(text: string | undefined): BlockList | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const list = new BlockList();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    const [addr, bits] = entry.split('/');
    const family = isIP(addr ?? '');
    if (family === 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits)))
      throw new Error(`${VARS.backupAllow}: "${entry}" is not an IP address or CIDR range`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(bits), type);
  }
  return list;
}

/** Constant-time comparison of the URL's token with the device's. */
function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function fail(ctx: Ctx, req: Request, res: Response, status: 400 | 413, reason: string, info: DeviceRequestInfo): void {
  // The rest of a refused body is not wanted: close the connection after the answer rather than read it.
  res.setHeader('Connection', 'close');
  res
    .status(status)
    .type('text/plain')
    .send(status === 413 ? 'Payload Too Large\n' : 'Bad Request\n');
  ctx.log.warn({ adapter: NAME, device: info.deviceId, ip: req.ip, status, reason }, 'backup refused');
  ctx.events.record({ ...info, status, ip: req.ip, ua: req.get('user-agent') ?? null, detail: reason });
}

export function backupHandler(ctx: Ctx): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    // The token is a path segment: logged as "…", never in clear.
    const logPath = `${req.baseUrl}${req.path}`.replace(`/${String(req.params.token)}/`, '/…/');
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'backup', logPath };
    const mac = String(req.params.mac);
    // A known, active device of this adapter, with its credentials when it has a password.
    const device = await ctx.access.admit(
      req,
      res,
      info,
      identified(identifyByMac(mac, lookupOf(ctx)), `MAC ${mac}`),
      policyOf(ctx, false),
    );
    if (!device) return;
    if (!sameToken(String(req.params.token), backupToken(ctx, device.id)))
      return ctx.files.deny(req, res, 403, 'backup URL token is not this device’s', info);
    const settings = settingsOf(ctx, device.profile);
    if (!settings.backups.enabled) return ctx.files.deny(req, res, 404, 'backups are off for this profile', info);
    const slotText = String(req.params.slot);
    const slot = Number(slotText);
    if (!/^\d{1,2}$/.test(slotText) || slot >= settings.backups.slots)
      return ctx.files.deny(req, res, 404, `rolling backup index ${slotText} is not 0..${settings.backups.slots - 1}`, info);
    const date = String(req.params.date);
    if (!DATE.test(date)) return ctx.files.deny(req, res, 404, 'backup date (#d) is not yyyymmdd-hhmmss', info);
    const vars = deviceVars(ctx, device);
    let list: BlockList | undefined;
    try {
      list = allowList(vars[VARS.backupAllow]);
    } catch (e) {
      ctx.log.error({ device: device.id }, (e as Error).message);
      return ctx.files.deny(req, res, 403, 'backup allow-list is malformed', info);
    }
    const ip = plainIp(req.ip);
    if (list && !list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4'))
      return ctx.files.deny(req, res, 403, `backup from ${ip}, outside ${VARS.backupAllow}`, info);
    const max = ctx.config.maxBackupBytes;
    const declared = Number(req.get('content-length') ?? NaN);
    if (declared > max) return fail(ctx, req, res, 413, `backup of ${declared} bytes exceeds ${max}`, info);
    // The devices' default (seed 003): logged so an admin sees which devices back up without credentials.
    if (!device.passwordHash) ctx.log.info({ device: device.id, ip }, 'backup accepted unauthenticated (the device has no password)');
    const result = await ctx.backups.receive(req, res, info, { deviceId: device.id, name: `${date}.cfg`, slot, maxBytes: max, remote: ip });
    if (!result) return;
    const { backup } = result;
    ctx.events.report({
      deviceId: device.id,
      ip: req.ip,
      reported: { lastBackup: { seq: backup.seq, slot, at: backup.at, sha256: backup.sha256 } },
    });
  };
}
