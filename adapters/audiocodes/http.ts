// HTTP(S) side of Automatic Update (seed 001 §32; protocols.md §(a) "What one check does, per URL").
// Identification: the MAC in the file name, else the MAC in the AudioCodes User-Agent; when both are
// present they must agree. Optional per-device Basic or Digest (AUPDDigestUsername/-Password). Every
// answer goes through the core's DeviceFiles: Last-Modified + Date on 200, 304 on If-Modified-Since.
import { isUtf8 } from 'node:buffer';
import type { Request, Response } from 'express';
import type { AdapterContext } from '../../src/adapter.ts';
import { normalizeMac } from '../../src/devices/mac.ts';
import type { DeviceRecord } from '../../src/store/index.ts';
import { digestChallenge, parseBasic, verifyDigest } from '../../src/transport/digest.ts';
import type { DeviceRequestInfo } from '../../src/transport/device-files.ts';
import { artifactAt, deviceTree } from './files.ts';
import { macFromFileName, parseAudioCodesUserAgent } from './identify.ts';
import type { AudioCodesConfig } from './settings.ts';

const NAME = 'audiocodes';
const REALM = 'APS AudioCodes';

type Ctx = AdapterContext<AudioCodesConfig>;

/** The name a device may log in with: its id or its MAC. */
export function loginMatches(device: DeviceRecord, username: string): boolean {
  return username === device.id || (device.mac !== null && normalizeMac(username) === device.mac);
}

function challenge(ctx: Ctx, stale = false): Record<string, string> {
  const digest = digestChallenge({ realm: REALM, secretKey: ctx.keys.key('audiocodes-digest'), now: Date.now(), stale });
  // Node joins an array into separate WWW-Authenticate headers: Digest first, Basic for URL credentials.
  return { 'WWW-Authenticate': [digest, `Basic realm="${REALM}"`] as unknown as string };
}

/** True when allowed; otherwise the 401 (with fresh challenges) has been sent. */
async function authenticate(ctx: Ctx, req: Request, res: Response, device: DeviceRecord, info: DeviceRequestInfo): Promise<boolean> {
  if (!device.passwordHash) return true;
  const refuse = (reason: string, stale = false): false => {
    ctx.files.deny(req, res, 401, reason, info, challenge(ctx, stale));
    return false;
  };
  const header = req.get('authorization');
  if (!header) return refuse('no credentials');
  const basic = parseBasic(header);
  if (basic) {
    if (loginMatches(device, basic.username) && (await ctx.devices.verifyPassword(device, basic.password))) return true;
    return refuse('wrong Basic credentials');
  }
  const r = verifyDigest({
    header,
    method: req.method,
    realm: REALM,
    secretKey: ctx.keys.key('audiocodes-digest'),
    now: Date.now(),
    uri: req.originalUrl,
    lookupPassword: (u) => (loginMatches(device, u) ? ctx.devices.secretOf(device) : undefined),
  });
  return r.kind === 'ok' ? true : refuse(`Digest ${r.kind}`, r.kind === 'stale');
}

/**
 * Finds the device; answers the refusal itself when there is none. An unknown MAC is a 404, except when
 * the client sent credentials: then it is the same 401 a wrong password gets, so probing with credentials
 * tells nothing about which MACs exist.
 */
async function identify(
  ctx: Ctx,
  req: Request,
  res: Response,
  pathMac: string | null,
  info: DeviceRequestInfo,
): Promise<DeviceRecord | undefined> {
  const refuse = (status: 401 | 403 | 404, reason: string): undefined => {
    ctx.files.deny(req, res, status, reason, info, status === 401 ? challenge(ctx) : {});
    return undefined;
  };
  const ua = parseAudioCodesUserAgent(req.get('user-agent'));
  if (ua?.mac && pathMac && ua.mac !== pathMac) return refuse(404, 'User-Agent MAC differs from the file name');
  const mac = pathMac ?? ua?.mac ?? null;
  if (!mac) return refuse(404, 'no MAC in the file name or User-Agent');
  const device = ctx.devices.getByMac(mac);
  if (!device || ctx.adapterNameOf(device.profile) !== NAME) return refuse(req.get('authorization') ? 401 : 404, `unknown MAC ${mac}`);
  info.deviceId = device.id;
  if (!(await authenticate(ctx, req, res, device, info))) return undefined;
  if (device.status !== 'active') return refuse(403, 'device is pending approval');
  // The User-Agent's <VER> is what the gateway runs: the fleet view reads reported.firmware.
  if (ua?.version) {
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
    return deviceTree(ctx, device);
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

export function registerHttp(ctx: Ctx): void {
  ctx.router.get('/:file', async (req, res) => {
    const file = String(req.params.file);
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'ini' };
    if (!/\.ini$/i.test(file)) return ctx.files.deny(req, res, 404, 'not an ini file name', info);
    const device = await identify(ctx, req, res, macFromFileName(file), info);
    if (!device) return;
    const tree = treeOrFail(ctx, req, res, device, info);
    if (tree)
      await ctx.files.sendRendered(req, res, tree.ini, info, `text/plain; charset=${isUtf8(tree.ini.bytes) ? 'utf-8' : 'iso-8859-1'}`);
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
