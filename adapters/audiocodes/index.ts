// AudioCodes MP-11x / MP-124 "Automatic Update" (seed 001 §32; protocols.md §(a)): per-device ini, cmp
// firmware and auxiliary files over HTTP, HTTPS and FTP, and SIP NOTIFY check-sync as the push trigger.
import {
  deviceVars,
  ApsError,
  defineAdapter,
  type AdapterContext,
  type AdapterServices,
  type DeviceRecord,
  type PreviewFile,
} from '../../src/adapter-api.ts';
import { audiocodesCommands } from './commands.ts';
import { deviceTree } from './files.ts';
import { ftpResolver } from './ftp.ts';
import { decodeIni } from './ini-encoding.ts';
import { registerHttp } from './http.ts';
import { AUX_ROLES, configSchema, profileSchema, type AudioCodesConfig } from './settings.ts';
import { audiocodesSimulatorCommand } from './simulator-command.ts';

function register(ctx: AdapterContext<AudioCodesConfig>): void {
  if (ctx.config.ftpAnonymous && !ctx.ftp.anonymous) {
    ctx.log.warn(
      'adapters.audiocodes.ftpAnonymous is on but ftp.anonymous is off: anonymous FTP logins are refused, so a device without a password cannot fetch over FTP',
    );
  }
  registerHttp(ctx);
  ctx.ftp.provide(ftpResolver(ctx));
}

/** `ftp://host:port` with `ID:PASSWORD@` inserted (the id percent-encoded as a URL user name must be). */
function ftpWithLogin(base: string, id: string | null): string {
  return id ? base.replace(/^ftp:\/\//, `ftp://${encodeURIComponent(id)}:PASSWORD@`) : base;
}

function preview(device: DeviceRecord, core: AdapterServices, config: AudioCodesConfig): PreviewFile[] {
  const t = deviceTree(core, config, device);
  const out: PreviewFile[] = [
    {
      name: t.iniPath,
      contentType: 'text/plain',
      text: decodeIni(t.ini.bytes).text,
      md5: t.ini.revision.md5,
      size: t.ini.bytes.length,
      serial: t.ini.revision.serial,
      lastModified: t.ini.revision.lastModified.toUTCString(),
    },
  ];
  for (const a of [...(t.cmp ? [t.cmp] : []), ...t.aux]) {
    out.push({
      name: a.path,
      contentType: 'application/octet-stream',
      artifactId: a.artifact.id,
      md5: a.artifact.md5,
      size: a.artifact.size,
    });
  }
  return out;
}

export const audiocodesAdapter = defineAdapter<AudioCodesConfig>({
  name: 'audiocodes',
  description: 'an AudioCodes MP-11x / MP-124 gateway (Automatic Update)',
  configSchema,
  profileSchema,
  // HTTP Digest (AUPDDigestPassword) and FTP URLs need the clear password; it is stored encrypted.
  credentials: 'secret',
  // The gateway is found by the MAC in its file names and User-Agent: without one it could never be served.
  validateDevice(d) {
    if (!d.mac) {
      throw new ApsError(
        'bad_request',
        `AudioCodes device ${d.id} needs a MAC (--mac 00:90:8f:…): the gateway is identified by the MAC in its ini file name and User-Agent`,
      );
    }
  },
  // The ini (a config artifact or the template), the cmp firmware and one auxiliary file per known role.
  slots: [{ kind: 'config' }, { kind: 'firmware' }, { kind: 'aux', roles: Object.keys(AUX_ROLES) }],
  // The User-Agent's version (http.ts) is what the gateway runs, the cmp's version once it took.
  rolloutHealth: { reports: 'version' },
  register,
  setup(device, core) {
    const mac = device.mac?.toUpperCase() ?? '<MAC>';
    const base = `${core.urls.http}/audiocodes/`;
    const user = device.passwordHash ? { username: device.id, password: '(the password set on this device)' } : undefined;
    return {
      url: `${base}<MAC>.ini`,
      deviceUrl: `${base}${mac}.ini`,
      httpsUrl: core.urls.https ? `${core.urls.https}/audiocodes/<MAC>.ini` : null,
      // With a password the FTP login goes in the URL (README "What to set on the gateway"): the gateway has no
      // other place for it. PASSWORD stays a placeholder: setup never shows the secret.
      ftpUrl: core.urls.ftp ? `${ftpWithLogin(core.urls.ftp, user ? device.id : null)}/<MAC>.ini` : null,
      ...(user ? { credentials: user } : {}),
      hints: [
        `ini (Web: Maintenance > Automatic Update, or in an ini file): IniFileURL = '${base}<MAC>.ini' — the gateway replaces <MAC> with its MAC; APS also accepts the MAC with separators or in upper case.`,
        ...(user
          ? [
              `Credentials: AUPDDigestUsername = '${device.id}' and AUPDDigestPassword = the device password (or http://${device.id}:PASSWORD@host/... in the URL for Basic). APS writes both into every ini it serves.`,
            ]
          : []),
        'Set EnableSIPRemoteReset = 1 so `aps notify` (SIP NOTIFY Event: check-sync;reboot=false) triggers a check; set the device variables sip_host (and sip_port, sip_user).',
        'DHCP: option 66/67 (or BootP) may name a TFTP server and ini file for the first boot; put IniFileURL in that first ini so later checks come to APS. APS itself serves no TFTP.',
        'Set AUPDCheckIfIniChanged = 1 (APS writes it) so an unchanged ini is never applied twice.',
      ],
    };
  },
  preview,
  async notify(device, core, config) {
    const vars = deviceVars(core, device);
    return core.push.sipCheckSync(vars, {
      event: 'check-sync;reboot=false',
      timers: config.sipTimers,
      advertisedHost: config.sipAdvertisedHost,
    });
  },
  simulator: audiocodesSimulatorCommand,
  commands: audiocodesCommands,
});
