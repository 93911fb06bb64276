import type { Request, Response } from 'express';
import { z } from 'zod';
import {
  defineAdapter,
  parseBasic,
  profileSettings,
  type AccessPolicy,
  type AdapterContext,
  type AdapterServices,
  type DeviceRecord,
  type Identified,
  type PreviewFile,
} from '../../src/adapter-api.ts';
import { firmwareSerial, vopFiles } from './files.ts';
import { requestUrlTemplate } from './render.ts';
import { vopSimulatorCommand } from './simulator-command.ts';

const NAME = 'vop';
// Request type (seed 000: `$t`) → the one file name its events carry, whether served or refused.
const FILES: Readonly<Record<string, string>> = { i: 'info', b: 'bootstrap', f: 'firmware', c: 'config' };

const configSchema = z.object({}).strict();
const profileSchema = z
  .object({
    /** Content-Type of the per-user configuration file. */
    configContentType: z.string().default('application/octet-stream'),
  })
  .strict();

// The VOP proves who it is with the user name and password it puts in the query ($u, $p), or Basic.
const POLICY: AccessPolicy = {
  realm: 'APS VOP',
  schemes: ['basic'],
  password: 'required',
  unknownStatus: 401,
  login: (d, u) => u === d.id,
};

/**
 * The identify step: the user name in the query or the Basic header names the device. `query` is
 * req.query read once by the caller: express 5 parses the query string again on every access.
 */
function identifyUser(ctx: AdapterServices, req: Request, query: Request['query']): Identified {
  const { u, p } = query;
  const basic = parseBasic(req.get('authorization'));
  const creds =
    typeof u === 'string' && typeof p === 'string' && u !== ''
      ? { user: u, password: p }
      : basic
        ? { user: basic.username, password: basic.password }
        : undefined;
  if (!creds) return { device: undefined, claim: 'user (no credentials)' };
  return { device: ctx.devices.get(creds.user), claim: `user ${creds.user}`, password: creds };
}

function register(ctx: AdapterContext<z.infer<typeof configSchema>>): void {
  const handle = async (req: Request, res: Response): Promise<void> => {
    const type = String(req.params.type);
    const file = Object.hasOwn(FILES, type) ? FILES[type] : undefined;
    const info = { adapter: NAME, deviceId: null as string | null, file: file ?? 'unknown' };
    if (!file) return ctx.files.deny(req, res, 404, `unknown request type "${type}"`, info);
    // One answer for every failure: the client never learns whether the user or the password was wrong.
    const query = req.query;
    const device = await ctx.access.admit(req, res, info, identifyUser(ctx, req, query), POLICY);
    if (!device) return;

    const files = vopFiles(ctx, device, req.secure);
    const v = typeof query.v === 'string' ? query.v : undefined;
    if (type === 'i') {
      if (v) ctx.events.report({ deviceId: device.id, reported: { bootstrap: v } });
      await ctx.files.sendRendered(req, res, files.info, info, 'application/xml; charset=utf-8');
    } else if (type === 'b') {
      if (!files.bootstrap) return ctx.files.deny(req, res, 404, 'no bootstrap target', info);
      await ctx.files.sendArtifact(req, res, files.bootstrap, info);
    } else if (type === 'f') {
      if (!files.firmware) return ctx.files.deny(req, res, 404, 'no firmware target', info);
      // The VOP never says what it runs (only $v, its bootstrap version): the download is recorded as
      // fetched, never as reported, since the VOP may still refuse it on its MD5.
      await ctx.files.sendArtifact(req, res, files.firmware, info);
    } else {
      if (!files.config) return ctx.files.deny(req, res, 404, 'no config for this user', info);
      const settings = profileSettings(profileSchema, ctx.profiles.require(device.profile));
      await ctx.files.sendRendered(req, res, files.config, info, settings.configContentType);
    }
  };
  ctx.router.get('/:type', handle);
}

function preview(device: DeviceRecord, core: AdapterServices): PreviewFile[] {
  const f = vopFiles(core, device, false);
  const out: PreviewFile[] = [
    {
      name: 'info',
      contentType: 'application/xml',
      text: f.info.bytes.toString('utf8'),
      md5: f.info.revision.md5,
      size: f.info.bytes.length,
      serial: f.info.revision.serial,
      lastModified: f.info.revision.lastModified.toUTCString(),
    },
  ];
  if (f.bootstrap)
    out.push({
      name: 'bootstrap',
      contentType: 'application/octet-stream',
      artifactId: f.bootstrap.id,
      md5: f.bootstrap.md5,
      size: f.bootstrap.size,
    });
  if (f.firmware)
    out.push({
      name: 'firmware',
      contentType: 'application/octet-stream',
      artifactId: f.firmware.id,
      md5: f.firmware.md5,
      size: f.firmware.size,
      serial: firmwareSerial(core, device, f.firmware),
    });
  if (f.config)
    out.push({
      name: 'config',
      contentType: 'text/plain',
      text: f.config.bytes.toString('utf8'),
      md5: f.config.revision.md5,
      size: f.config.bytes.length,
      serial: f.config.revision.serial,
      lastModified: f.config.revision.lastModified.toUTCString(),
    });
  return out;
}

export const vopAdapter = defineAdapter({
  name: NAME,
  description: 'a VOP (Voice Operator Panel) client of the Automated Provisioning System',
  configSchema,
  profileSchema,
  // The VOP sends its password in clear in the request ($p): a hash is enough to check it.
  credentials: 'hash',
  // What the information file announces: a bootstrap, a firmware and a per-user config.
  slots: [{ kind: 'bootstrap' }, { kind: 'firmware' }, { kind: 'config' }],
  // A VOP never says what it runs: a complete download of the new file is its success.
  rolloutHealth: { reports: 'fetch' },
  register,
  setup(device, core) {
    return {
      url: requestUrlTemplate(core.urls.http),
      httpsUrl: core.urls.https ? requestUrlTemplate(core.urls.https) : null,
      credentials: {
        username: device.id,
        password: device.passwordHash ? '(the password set on this device)' : '(none set: add one with aps device set --password)',
      },
      hints: [
        'Enter the URL as the provisioning (info) URL; the VOP replaces $t, $u, $p and $v itself.',
        `Enter user name "${device.id}" and the device password when the VOP asks for them.`,
        'The VOP checks at start and every 6 hours.',
      ],
    };
  },
  preview,
  simulator: vopSimulatorCommand,
});
