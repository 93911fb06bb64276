// HTTP(S) side of Automatic Update (seed 001 §32; protocols.md §(a) "What one check does, per URL").
// Identification: the MAC in the file name, else the MAC in the AudioCodes User-Agent; when both are
// present they must agree. Optional per-device Basic or Digest (AUPDDigestUsername/-Password). Every
// answer goes through the core's DeviceFiles: Last-Modified + Date on 200, 304 on If-Modified-Since.
import { isUtf8 } from 'node:buffer';
import type { Request, Response } from 'express';
import {
  type AccessPolicy,
  type AdapterContext,
  type DeviceRecord,
  type DeviceRequestInfo,
  type Identified,
  normalizeMac,
} from '../../src/adapter-api.ts';
import { artifactAt, deviceTree } from './files.ts';
import { macFromFileName, parseAudioCodesUserAgent, type AudioCodesAgent } from './identify.ts';
import type { AudioCodesConfig } from './settings.ts';

const NAME = 'audiocodes';
const REALM = 'APS AudioCodes';

type Ctx = AdapterContext<AudioCodesConfig>;

// Basic over the URL (http://id:pw@host/…) or Digest (AUPDDigestUsername/-Password), only when the device
// has a password; the login is its id or its MAC.
const POLICY: AccessPolicy = { realm: REALM, schemes: ['digest', 'basic'], password: 'if-set', unknownStatus: 404 };

/**
 * The identify step: the MAC in the file name, else in the User-Agent; when both are there they must agree.
 * An unknown MAC is a 404, except when the client sent credentials: then it is the 401 a wrong password
 * gets, so probing with credentials tells nothing about which MACs exist (ctx.access.admit).
 */
export function identifyGateway(ctx: Ctx, req: Request, pathMac: string | null): Identified & { ua: AudioCodesAgent | null } {
  const ua = parseAudioCodesUserAgent(req.get('user-agent'));
  if (ua?.mac && pathMac && ua.mac !== pathMac) {
    return { ua, device: undefined, claim: 'MAC', refuse: { status: 404, reason: 'User-Agent MAC differs from the file name' } };
  }
  const mac = pathMac ?? ua?.mac ?? null;
  if (!mac) return { ua, device: undefined, claim: 'MAC', refuse: { status: 404, reason: 'no MAC in the file name or User-Agent' } };
  return { ua, device: ctx.devices.getByMac(mac), claim: `MAC ${mac}` };
}

async function identify(
  ctx: Ctx,
  req: Request,
  res: Response,
  pathMac: string | null,
  info: DeviceRequestInfo,
): Promise<DeviceRecord | undefined> {
  const found = identifyGateway(ctx, req, pathMac);
  const device = await ctx.access.admit(req, res, info, found, POLICY);
  // The User-Agent's <VER> is what the gateway runs: the fleet view reads reported.firmware.
  const ua = found.ua;
  if (device && ua?.version) {
    ctx.events.report({
      deviceId: device.id,
      reported: { firmware: ua.version, ...(ua.product ? { product: ua.product } : {}), ...(ua.conf ? { iniFileVersion: ua.conf } : {}) },
    });
  }
  return device;
}

function treeOrFail(
  ctx: Ctx,
  req: Request,
  res: Response,
  device: DeviceRecord,
  info: DeviceRequestInfo,
): ReturnType<typeof deviceTree> | undefined {
  try {
    return deviceTree(ctx, ctx.config, device);
  } catch (e) {
    // A template or setting fault: the operator's to fix. The device learns nothing but a 500; the reason
    // (messages name parameters and variables, never their values) goes to the log and the event.
    const reason = (e as Error).message;
    ctx.log.error({ device: device.id, err: reason }, 'cannot render the ini');
    ctx.events.record({ ...info, status: 500, ip: req.ip, ua: req.get('user-agent') ?? null, detail: `render failed: ${reason}` });
    res.status(500).type('text/plain').send('Internal Server Error\n');
    return undefined;
  }
}

// The ini's charset, from its bytes (an imported latin-1 ini is served as it came): looked at once per rendering.
const charsets = new WeakMap<Buffer, string>();
function contentTypeOf(bytes: Buffer): string {
  let type = charsets.get(bytes);
  if (!type) charsets.set(bytes, (type = `text/plain; charset=${isUtf8(bytes) ? 'utf-8' : 'iso-8859-1'}`));
  return type;
}

export function registerHttp(ctx: Ctx): void {
  ctx.router.get('/:file', async (req, res) => {
    const file = String(req.params.file);
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'ini' };
    if (!/\.ini$/i.test(file)) return ctx.files.deny(req, res, 404, 'not an ini file name', info);
    const device = await identify(ctx, req, res, macFromFileName(file), info);
    if (!device) return;
    const tree = treeOrFail(ctx, req, res, device, info);
    if (tree) await ctx.files.sendRendered(req, res, tree.ini, info, contentTypeOf(tree.ini.bytes));
  });

  const artifact = async (req: Request, res: Response, kind: 'cmp' | 'aux'): Promise<void> => {
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: kind };
    const mac = normalizeMac(String(req.params.mac));
    if (!mac) return ctx.files.deny(req, res, 404, 'no MAC in the path', info);
    const device = await identify(ctx, req, res, mac, info);
    if (!device) return;
    const tree = treeOrFail(ctx, req, res, device, info);
    if (!tree) return;
    const p = req.params as Record<string, string>;
    const rest = kind === 'cmp' ? `cmp/${p.name}` : `aux/${p.role}/${p.hash}/${p.name}`;
    const entry = artifactAt(tree, `${tree.mac}/${rest}`);
    if (!entry) return ctx.files.deny(req, res, 404, `not a current target: ${kind}`, info);
    await ctx.files.sendArtifact(req, res, entry.artifact, { ...info, file: entry.file });
  };
  ctx.router.get('/:mac/cmp/:name', (req, res) => artifact(req, res, 'cmp'));
  ctx.router.get('/:mac/aux/:role/:hash/:name', (req, res) => artifact(req, res, 'aux'));
}
