// The Avaya file server folder (HTTPDIR = "avaya"), over HTTP and HTTPS alike (seed 004: "the script
// files, binary files, and settings files … are identical for HTTP and HTTPS servers"). Every answer goes
// through the core's DeviceFiles: ETag (the phones show it: "HTTP: n sc etag"), Last-Modified, 304, Range.
import type { Request, Response } from 'express';
import { isApsError, type AdapterContext, type DeviceRequestInfo, type RenderedFile } from '../../src/adapter-api.ts';
import { mayHaveSecrets } from './access.ts';
import { registerBackups } from './backup.ts';
import { NAME, servedBinary, phoneFile, scriptNames, settingsFile, upgradeScript } from './files.ts';
import { identifyPhone, PHONE_POLICY, macOfPhoneFile, parseAvayaUserAgent, phoneAt, rememberAddress, reportAgent } from './identify.ts';
import { SETTINGS_ALIASES, type AvayaConfig } from './settings.ts';

type Ctx = AdapterContext<AvayaConfig>;
const TEXT = 'text/plain; charset=utf-8';

/** A render that fails is the operator's to fix: the phone gets a 500, the reason (never a value) goes to the log and event. */
function rendered(ctx: Ctx, req: Request, res: Response, info: DeviceRequestInfo, make: () => RenderedFile): RenderedFile | undefined {
  try {
    return make();
  } catch (e) {
    if (!isApsError(e)) throw e;
    ctx.log.error({ device: info.deviceId, file: info.file, err: e.message }, 'cannot render an Avaya file');
    ctx.events.record({ ...info, status: 500, ip: req.ip, ua: req.get('user-agent') ?? null, detail: `render failed: ${e.message}` });
    res.status(500).type('text/plain').send('Internal Server Error\n');
    return undefined;
  }
}

/**
 * Shared files name no phone: the phone last identified at this address is recorded, for the fleet view
 * only (never for access). Behind NAT several phones share an address, so a User-Agent naming another
 * model, or another release than that phone last reported, is attributed to nobody: a rollout judges each
 * phone by the release it reports, and another phone's must never stand for it.
 */
function attribute(ctx: Ctx, req: Request, file: string): DeviceRequestInfo {
  let d = phoneAt(ctx, req.ip);
  const agent = parseAvayaUserAgent(req.get('user-agent'));
  if (d && agent?.model && d.model && agent.model.toLowerCase() !== d.model.toLowerCase()) d = undefined;
  const reported = d ? ctx.devices.state(d.id)?.reported.firmware : undefined;
  if (d && agent?.firmware && typeof reported === 'string' && agent.firmware !== reported) d = undefined;
  if (d) reportAgent(ctx, d.id, req.ip, req.get('user-agent'));
  return { adapter: NAME, deviceId: d?.id ?? null, file };
}

async function servePhoneFile(ctx: Ctx, req: Request, res: Response, mac: string): Promise<void> {
  const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'phone' };
  const device = await ctx.access.admit(
    req,
    res,
    info,
    identifyPhone(ctx, mac, { ip: req.ip, userAgent: req.get('user-agent') }, { register: true }),
    PHONE_POLICY,
  );
  if (!device) return;
  // admit() refused wrong credentials: a request that carried some proved it is this phone.
  const credentialed = req.get('authorization') !== undefined;
  info.deviceId = device.id;
  rememberAddress(ctx.state, req.ip, device.id);
  reportAgent(ctx, device.id, req.ip, req.get('user-agent'));
  const access = mayHaveSecrets(ctx, req, device, credentialed);
  const full = rendered(ctx, req, res, info, () => phoneFile(ctx, device, true));
  if (!full) return;
  let file = full;
  if (!access.allowed) {
    const pub = rendered(ctx, req, res, info, () => phoneFile(ctx, device, false));
    if (!pub) return;
    if (!pub.bytes.equals(full.bytes)) {
      // Expected when a phone boots outside the rule: a warning without a stack, the values never logged.
      ctx.log.warn({ device: device.id, ip: req.ip, reason: access.reason }, 'per-phone secret lines held back');
    }
    file = pub;
  }
  await ctx.files.sendRendered(req, res, file, info, TEXT);
}

export function registerHttp(ctx: Ctx): void {
  registerBackups(ctx);
  ctx.router.get('/:file', async (req, res) => {
    const file = String(req.params.file);
    const lower = file.toLowerCase();
    const mac = macOfPhoneFile(file);
    if (mac) return servePhoneFile(ctx, req, res, mac);
    const script = scriptNames(ctx).find((n) => n.toLowerCase() === lower);
    if (script) {
      const info = attribute(ctx, req, `script:${script}`);
      const f = rendered(ctx, req, res, info, () => upgradeScript(ctx, script));
      if (f) await ctx.files.sendRendered(req, res, f, info, TEXT);
      return;
    }
    if ((SETTINGS_ALIASES as readonly string[]).includes(lower)) {
      const info = attribute(ctx, req, 'settings');
      const f = rendered(ctx, req, res, info, () => settingsFile(ctx));
      if (f) await ctx.files.sendRendered(req, res, f, info, TEXT);
      return;
    }
    const binary = servedBinary(ctx, lower);
    if (binary) {
      const info = attribute(ctx, req, binary.artifact.kind === 'firmware' ? 'firmware' : `aux:${binary.artifact.role}`);
      await ctx.files.sendArtifact(req, res, binary.artifact, info);
      return;
    }
    ctx.files.deny(req, res, 404, 'no such file', attribute(ctx, req, 'unknown'));
  });
}
