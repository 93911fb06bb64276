// BRURI backup and restore (1600 guide [V]: HTTP PUT to BRURI and GET to restore, a "/" added when BRURI
// lacks one; 9600 and J100 guides: "If BRURI ends with a /, the file name is appended"). APS gives each
// phone its own BRURI, …/avaya/backup/<mac>/ (files.ts writes it into $MACADDR.txt), and keeps what it
// PUTs in the core backup store: never overwritten, sealed at rest, listed by `aps backup list`.
// A MAC is guessable, so backups follow the per-phone secret rule (access.ts): HTTPS (unless the group
// allows plain HTTP) and the phone's credentials (the phones send the registration password in an
// Authorization header over TLS) or a client in the group's networks.
import type { Request, Response } from 'express';
import { normalizeMac, type AdapterContext, type DeviceRequestInfo } from '../../src/adapter-api.ts';
import { NAME } from './files.ts';
import { mayHaveSecrets, REALM } from './access.ts';
import { identifyPhone, PHONE_POLICY, rememberAddress } from './identify.ts';
import type { AvayaConfig } from './settings.ts';

type Ctx = AdapterContext<AvayaConfig>;

async function allowedPhone(ctx: Ctx, req: Request, res: Response, info: DeviceRequestInfo): Promise<string | undefined> {
  const mac = normalizeMac(String(req.params.mac));
  if (!mac) return void ctx.files.deny(req, res, 404, 'no MAC in the backup path', info);
  const device = await ctx.access.admit(
    req,
    res,
    info,
    identifyPhone(ctx, mac, { ip: req.ip, userAgent: req.get('user-agent') }, { register: false }),
    PHONE_POLICY,
  );
  if (!device) return undefined;
  const credentialed = req.get('authorization') !== undefined;
  const access = mayHaveSecrets(ctx, req, device, credentialed);
  if (!access.allowed) {
    // No credentials yet: ask for them (a phone sends its registration password when challenged over TLS).
    if (!credentialed) {
      return void ctx.files.deny(req, res, 401, `backup: ${access.reason}`, info, { 'WWW-Authenticate': `Basic realm="${REALM}"` });
    }
    return void ctx.files.deny(req, res, 403, `backup: ${access.reason}`, info);
  }
  rememberAddress(ctx.state, req.ip, device.id);
  return device.id;
}

export function registerBackups(ctx: Ctx): void {
  const backups = ctx.backups;
  ctx.router.put('/backup/:mac/:name', async (req, res) => {
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'backup' };
    const deviceId = await allowedPhone(ctx, req, res, info);
    if (!deviceId) return;
    await backups.receive(req, res, info, {
      deviceId,
      name: String(req.params.name),
      maxBytes: ctx.config.backupMaxBytes,
      remote: req.ip ?? null,
    });
  });

  ctx.router.get('/backup/:mac/:name', async (req, res) => {
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'backup' };
    const deviceId = await allowedPhone(ctx, req, res, info);
    if (!deviceId) return;
    const name = String(req.params.name);
    const newest = backups.list(deviceId).find((b) => b.name === name);
    if (!newest) return ctx.files.deny(req, res, 404, `no backup named ${name}`, info);
    const bytes = backups.read(deviceId, newest.seq);
    await ctx.files.sendRendered(
      req,
      res,
      { bytes, revision: ctx.revisions.stamp(deviceId, `backup:${name}`, bytes) },
      info,
      'application/octet-stream',
    );
  });
}
