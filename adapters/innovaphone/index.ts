import {
  ApsError,
  defineAdapter,
  type AdapterServices,
  type DeviceRecord,
  type DeviceSetup,
  type PreviewFile,
} from '../../src/adapter-api.ts';
import { backupHandler } from './backup.ts';
import { BMC_ROLE, baseUrl, buildSerial, innovaphoneFiles, updateUrl, type Services } from './files.ts';
import { artifactHandler, configHandler, guarded, updateHandler, type Ctx } from './routes.ts';
import { NAME, configSchema, profileSchema, type InnovaphoneConfig } from './settings.ts';
import { innovaphoneSimulatorCommand } from './simulator-command.ts';

function register(ctx: Ctx): void {
  // Older releases kept a `pending:<id>` key per self-registered device (never pruned); the store counts them now.
  for (const { key } of ctx.state.entries('pending:')) ctx.state.delete(key);
  ctx.router.get('/up/*path', guarded(ctx, updateHandler(ctx)));
  ctx.router.get('/fw/:mac/:id/:name', guarded(ctx, artifactHandler(ctx)));
  ctx.router.get('/cfg/:mac/:name', guarded(ctx, configHandler(ctx)));
  ctx.router.put('/backup/:mac/:token/:slot/:date', guarded(ctx, backupHandler(ctx)));
}

function services(s: AdapterServices, config: InnovaphoneConfig): Services {
  return { ...s, config };
}

function setup(device: DeviceRecord, core: AdapterServices, config: InnovaphoneConfig): DeviceSetup {
  const http = baseUrl(core.urls, config, false);
  const https = core.urls.https ? baseUrl(core.urls, config, true) : null;
  return {
    url: updateUrl(http),
    httpsUrl: https && updateUrl(https),
    ...(device.passwordHash ? { credentials: { username: device.id, password: '(the password set on this device)' } } : {}),
    hints: [
      'Configuration/General/Update: enter the URL as it is (the device replaces #m #h #t #i and appends update-<product>.htm to the final "/"), and a poll interval in minutes (e.g. 15).',
      'Or hand the URL out in DHCP option 215 (string) to every innovaphone device of the site.',
      device.mac
        ? `The device is identified by its MAC ${device.mac} (#m).`
        : `Set the device's MAC (aps device set ${device.id} --mac MAC): it is identified by #m.`,
      device.passwordHash
        ? `Configuration/General/HTTP-Client: user "${device.id}" (or its MAC) and the device password (HTTP Digest or Basic; prefer HTTPS with Basic).`
        : 'No password: the device reads its script and uploads backups unauthenticated (its default). Set one with aps device set --password to require HTTP credentials.',
    ],
  };
}

function preview(device: DeviceRecord, core: AdapterServices, config: InnovaphoneConfig): PreviewFile[] {
  const f = innovaphoneFiles(services(core, config), device, {}, false);
  const rendered = (name: string, contentType: string, r: typeof f.script): PreviewFile => ({
    name,
    contentType,
    text: r.bytes.toString('utf8'),
    md5: r.revision.md5,
    size: r.bytes.length,
    serial: r.revision.serial,
    lastModified: r.revision.lastModified.toUTCString(),
  });
  const out: PreviewFile[] = [rendered(f.names.update, 'text/plain', f.script)];
  const artifact = (name: string, a: NonNullable<typeof f.firmware>): PreviewFile => ({
    name,
    contentType: 'application/octet-stream',
    artifactId: a.id,
    md5: a.md5,
    size: a.size,
  });
  if (f.boot) out.push(artifact(f.names.boot, f.boot));
  if (f.firmware) out.push(artifact(f.names.firmware, f.firmware));
  if (f.bmc && f.names.bmc) out.push(artifact(f.names.bmc, f.bmc));
  if (f.config) out.push(rendered('config.txt', f.settings.configContentType, f.config));
  return out;
}

export const innovaphoneAdapter = defineAdapter<InnovaphoneConfig>({
  name: NAME,
  description: 'innovaphone gateways, DECT bases and phones polling an update server (UP1/UP0 scripts, seed 003)',
  configSchema,
  profileSchema,
  // Optional HTTP Digest for devices given a password needs the clear secret on the server side.
  credentials: 'secret',
  validateDevice(d) {
    if (!d.mac) {
      throw new ApsError(
        'bad_request',
        `innovaphone device ${d.id} needs a MAC (--mac 00-90-33-…): the device is identified by #m in its update URL`,
      );
    }
  },
  // Boot code, firmware, the DECT radio code (aux, role bmc) and a device's own config (a restored backup is one).
  slots: [{ kind: 'bootstrap' }, { kind: 'firmware' }, { kind: 'aux', roles: [BMC_ROLE] }, { kind: 'config' }],
  // The PROT argument of its update request is the build serial it runs (files.ts buildSerial).
  rolloutHealth: { reports: 'version', versionOf: buildSerial },
  register,
  setup,
  preview,
  // What the official update server drops before comparing backups (protocols.md §(c) "Backups"): the
  // update client's own variables, its URL and poll settings, TLS session tickets and call lists.
  backupVolatile: [/^vars create UPDATE\//, /^config change UP1 /, /^vars create TLS\d*\/TICKET\//, /\bFLASHDIR0 add-item\b/],
  simulator: innovaphoneSimulatorCommand,
});
