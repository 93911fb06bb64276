import type { Request, RequestHandler, Response } from 'express';
import { defineAdapter, type AdapterContext, type PreviewFile } from '../../src/adapter-api.ts';
import { acsHandler } from './acs.ts';
import { connectionRequest } from './connection-request.ts';
import { NAME, cpeFiles, sweepDownloads, type AcsDeps } from './downloads.ts';
import { fileHandler, tokenFileHandler } from './file-server.ts';
import { configSchema, profileSchema, type Tr069Config } from './settings.ts';
import { tr069SimulatorCommand } from './simulator-command.ts';

// Whatever goes wrong inside (a bug, a value the codec refuses to emit), the CPE gets a bare 500 and the
// log gets the error; never a stack trace, never a crashed process (issue #4).
function guarded(ctx: AdapterContext<Tr069Config>, h: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req, res) => {
    try {
      await h(req, res);
    } catch (err) {
      ctx.log.error({ err, path: req.path }, 'TR-069 request failed');
      if (!res.headersSent) res.status(500).type('text/plain').send('Internal Server Error\n');
      else res.destroy();
    }
  };
}

// The settings that trade a secure default for interop are deliberate: each says so at every start.
function warnWeakerSettings(ctx: AdapterContext<Tr069Config>): void {
  if (ctx.config.fileAuth === 'token')
    ctx.log.warn(
      { setting: 'adapters.tr069.fileAuth', value: 'token' },
      'TR-069 file server uses per-download URL tokens: whoever holds a Download URL can fetch that one file until the download completes or expires',
    );
  if (ctx.config.allowBasicOverHttp)
    ctx.log.warn(
      { setting: 'adapters.tr069.allowBasicOverHttp', value: true },
      'TR-069 accepts HTTP Basic over plain HTTP: CPE passwords cross the network in clear; closed lab networks only',
    );
}

// Sweep timers of the running servers (one per register(); several in one test process).
const sweeps = new Set<NodeJS.Timeout>();

function register(ctx: AdapterContext<Tr069Config>): void {
  const deps: AcsDeps = { core: ctx, config: ctx.config, log: ctx.log, kv: ctx.state };
  ctx.router.post('/', guarded(ctx, acsHandler(deps)));
  ctx.router.get('/files/:device/:key/:name', guarded(ctx, fileHandler(deps)));
  ctx.router.get('/files/:device/:key/:token/:name', guarded(ctx, tokenFileHandler(deps)));
  warnWeakerSettings(ctx);
  const timer: NodeJS.Timeout = setInterval(() => {
    try {
      sweepDownloads(deps, Date.now());
    } catch (err) {
      // A closed store (shutdown) or a broken one: stop rather than log the same error every interval.
      ctx.log.error({ err }, 'TR-069 download sweep failed; stopped');
      clearInterval(timer);
      sweeps.delete(timer);
    }
  }, ctx.config.sweepIntervalSeconds * 1000);
  timer.unref();
  sweeps.add(timer);
}

export const tr069Adapter = defineAdapter<Tr069Config>({
  name: NAME,
  description: 'a TR-069 (CWMP) CPE, e.g. a Thomson gateway, updated by Download RPC',
  configSchema,
  profileSchema,
  // HTTP Digest needs the clear password on the server side (stored AES-GCM encrypted by the core).
  credentials: 'secret',
  // Download RPCs of file type 1 (firmware) and 3 (vendor configuration file).
  slots: [{ kind: 'firmware' }, { kind: 'config' }],
  // SoftwareVersion in the Inform; a TransferComplete FaultCode (or APS's own verdict: no TransferComplete,
  // installed but another version) is recorded on the `download:<kind>` event.
  rolloutHealth: {
    reports: 'version',
    concerns: (e, a) => e.artifactId === a.id || e.file === `download:${a.kind === 'firmware' ? 'firmware' : 'config'}`,
  },
  register,
  setup(device, core, config) {
    return {
      url: `${core.urls.http}/${NAME}`,
      httpsUrl: core.urls.https ? `${core.urls.https}/${NAME}` : null,
      credentials: {
        username: device.id,
        password: device.passwordEnc ? '(the password set on this device)' : '(none set: add one with aps device set --password)',
      },
      hints: [
        `Set InternetGatewayDevice.ManagementServer.URL (or Device.ManagementServer.URL) to the URL above.`,
        `Set ManagementServer.Username to "${device.id}" and ManagementServer.Password to the device password (HTTP Digest; Basic ${config.allowBasicOverHttp ? 'accepted over HTTP too (allowBasicOverHttp)' : 'only over HTTPS'}).`,
        `Set ManagementServer.PeriodicInformEnable to 1 and PeriodicInformInterval to ${config.periodicInformInterval}.`,
        'Set ManagementServer.ConnectionRequestUsername/Password and the same values as device variables cr_username/cr_password, so "aps notify" works.',
        `The device id must be OUI-ProductClass-SerialNumber or the bare SerialNumber from the CPE's DeviceId.`,
      ],
    };
  },
  preview(device, core) {
    const f = cpeFiles(core, device);
    const out: PreviewFile[] = [];
    if (f.firmware)
      out.push({
        name: f.firmware.filename,
        contentType: 'application/octet-stream',
        artifactId: f.firmware.id,
        md5: f.firmware.md5,
        size: f.firmware.size,
      });
    if (f.config) {
      const r = f.config.revision;
      out.push({
        name: f.settings.configFileName,
        contentType: f.settings.configContentType,
        text: f.config.bytes.toString('utf8'),
        md5: r.md5,
        size: f.config.bytes.length,
        serial: r.serial,
        lastModified: r.lastModified.toUTCString(),
      });
    }
    return out;
  },
  notify: connectionRequest,
  simulator: tr069SimulatorCommand,
  async close() {
    for (const t of sweeps) clearInterval(t);
    sweeps.clear();
  },
});
