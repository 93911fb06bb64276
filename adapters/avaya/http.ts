// The Avaya file server folder (HTTPDIR = "avaya"), over HTTP and HTTPS alike (seed 004: "the script
// files, binary files, and settings files … are identical for HTTP and HTTPS servers"). Every answer goes
// through the core's DeviceFiles: ETag (the phones show it: "HTTP: n sc etag"), Last-Modified, 304, Range.
import type { Request, Response } from 'express';
import {
  isApsError,
  type AdapterContext,
  type ArtifactRecord,
  type DeviceRecord,
  type DeviceRequestInfo,
  type RenderedFile,
} from '../../src/adapter-api.ts';
import { mayHaveSecrets } from './access.ts';
import { registerBackups } from './backup.ts';
import { NAME, servedBinary, phoneBinaries, phoneFile, scriptNames, settingsFile, upgradeScript } from './files.ts';
import {
  identifyPhone,
  PHONE_POLICY,
  macOfPhoneFile,
  normalRelease,
  parseAvayaUserAgent,
  phonesAt,
  rememberAddress,
  reportAgent,
} from './identify.ts';
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
 * Shared files name no phone: a request is credited (events and reported state only, never access) to the
 * one phone identified at its address that it can be. Behind NAT several phones share an address, so a
 * phone whose model or last reported release differs from the User-Agent's is not it, nor one whose own
 * branch of the script does not name the binary fetched (a rollout judges each phone by its own download,
 * and a window holds it on it); a request that is no Avaya phone's, or that more than one phone could have
 * made, is credited to none.
 */
function attribute(ctx: Ctx, req: Request, file: string, binary?: ArtifactRecord): DeviceRequestInfo {
  const agent = parseAvayaUserAgent(req.get('user-agent'));
  const fits = (d: DeviceRecord): boolean => {
    if (agent?.model && d.model && agent.model.toLowerCase() !== d.model.toLowerCase()) return false;
    const reported = ctx.devices.state(d.id)?.reported.firmware;
    return !(agent?.firmware && typeof reported === 'string' && normalRelease(agent.firmware) !== normalRelease(reported));
  };
  let candidates = agent ? phonesAt(ctx, req.ip).filter(fits) : [];
  // Several phones could have made it: the binary tells them apart when only one's own branch names it.
  // (Not asked of a lone candidate: a download begun as its window closed is still its own. What a phone
  // holds outside its window does not depend on this record: files.ts ownBinaries.)
  if (candidates.length > 1 && binary) candidates = candidates.filter((d) => phoneBinaries(ctx, d).some((a) => a.id === binary.id));
  const d = candidates.length === 1 ? candidates[0] : undefined;
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
      const info = attribute(ctx, req, binary.artifact.kind === 'firmware' ? 'firmware' : `aux:${binary.artifact.role}`, binary.artifact);
      await ctx.files.sendArtifact(req, res, binary.artifact, info);
      return;
    }
    ctx.files.deny(req, res, 404, 'no such file', attribute(ctx, req, 'unknown'));
  });
}
