// PUT /backup/<#m>/<token>/<#bn>/<#d>: the device's configuration upload (seed 003 "SCFG command": an
// HTTP PUT, chunked, usually unauthenticated; #m the MAC, #bn the rolling backup index, #d the date and
// time). Stored by the core backup store (atomic, sealed, never overwriting another, idempotent for a
// retried identical PUT). Accepted only for a known, active device, only into its own slot: the token in
// the URL is the one APS wrote into that device's script, so another device's MAC, a guessed URL or a
// PUT for a device APS has not approved stores nothing.
import type { Request, Response } from 'express';
import { deviceVars, parseNetworks, secretsEqual, type DeviceRequestInfo, type NetworkList } from '../../src/adapter-api.ts';
import { backupToken, settingsOf } from './files.ts';
import { admitByMac, type Ctx } from './routes.ts';
import { NAME, VARS } from './settings.ts';

const DATE = /^\d{8}-\d{6}$/;

export function backupHandler(ctx: Ctx): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    // The token is a path segment: logged as "…", never in clear.
    const logPath = `${req.baseUrl}${req.path}`.replace(`/${String(req.params.token)}/`, '/…/');
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'backup', logPath };
    // A known, active device of this adapter, with its credentials when it has a password.
    const device = await admitByMac(ctx, req, res, info, false);
    if (!device) return;
    if (!secretsEqual(String(req.params.token), backupToken(ctx, device.id)))
      return ctx.files.deny(req, res, 403, 'backup URL token is not this device’s', info);
    const settings = settingsOf(ctx, device.profile);
    if (!settings.backups.enabled) return ctx.files.deny(req, res, 404, 'backups are off for this profile', info);
    const slotText = String(req.params.slot);
    const slot = Number(slotText);
    if (!/^\d{1,2}$/.test(slotText) || slot >= settings.backups.slots)
      return ctx.files.deny(req, res, 404, `rolling backup index ${slotText} is not 0..${settings.backups.slots - 1}`, info);
    const date = String(req.params.date);
    if (!DATE.test(date)) return ctx.files.deny(req, res, 404, 'backup date (#d) is not yyyymmdd-hhmmss', info);
    let list: NetworkList | undefined;
    try {
      list = parseNetworks(deviceVars(ctx, device)[VARS.backupAllow], VARS.backupAllow);
    } catch (e) {
      ctx.log.error({ device: device.id }, (e as Error).message);
      return ctx.files.deny(req, res, 403, 'backup allow-list is malformed', info);
    }
    const ip = req.ip ?? '';
    if (list && !list.contains(ip)) return ctx.files.deny(req, res, 403, `backup from ${ip}, outside ${VARS.backupAllow}`, info);
    const max = ctx.config.maxBackupBytes;
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
