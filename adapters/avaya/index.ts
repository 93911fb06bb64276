// Avaya deskphones (16CC, 96x1, J100, and the 46xx/96xx/16xx file chain they share): generated upgrade
// scripts, 46xxsettings.txt, per-phone $MACADDR.txt, binaries by APPNAME and BRURI backups over HTTP(S).
// Spec: seed 004 (Avaya Agent Deskphone 16CC admin guide, chapter 7 "General Download Process");
// protocols.md §(b) and its "Verified additions".
import {
  ApsError,
  deviceVars,
  defineAdapter,
  type AdapterContext,
  type AdapterServices,
  type DeviceRecord,
  type PreviewFile,
} from '../../src/adapter-api.ts';
import { avayaCommands } from './commands.ts';
import { normalRelease, releaseOfImage } from './identify.ts';
import { avayaProfiles, NAME, phoneBinaries, phoneFile, profileSettings, servedName, settingsFile, upgradeScript } from './files.ts';
import { registerHttp } from './http.ts';
import { configSchema, profileSchema, SETTINGS_FILE, type AvayaConfig } from './settings.ts';
import { avayaSetup } from './setup.ts';
import { avayaSimulatorCommand } from './simulator-command.ts';

function register(ctx: AdapterContext<AvayaConfig>): void {
  // Older releases kept a `pending:<mac>` key per self-registered phone; the store counts them now.
  for (const { key } of ctx.state.entries('pending:')) ctx.state.delete(key);
  // Shared files branch by $MODEL4 alone: a model two profiles list gets the first profile's (by name)
  // firmware and settings section; its phones in the other profile get their parameters in their own file.
  const owner = new Map<string, string>();
  for (const p of avayaProfiles(ctx)) {
    for (const m of p.models) {
      const first = owner.get(m.toLowerCase());
      if (first)
        ctx.log.warn({ model: m, profiles: [first, p.name] }, 'model listed by two avaya profiles: the upgrade script uses the first');
      else owner.set(m.toLowerCase(), p.name);
    }
  }
  registerHttp(ctx);
}

function text(name: string, f: { bytes: Buffer; revision: { md5: string; serial: number; lastModified: Date } }): PreviewFile {
  return {
    name,
    contentType: 'text/plain',
    text: f.bytes.toString('utf8'),
    md5: f.revision.md5,
    size: f.bytes.length,
    serial: f.revision.serial,
    lastModified: f.revision.lastModified.toUTCString(),
  };
}

function preview(device: DeviceRecord, core: AdapterServices): PreviewFile[] {
  const out: PreviewFile[] = [];
  const scripts = profileSettings(core.profiles.require(device.profile)).upgradeScripts;
  for (const s of scripts) out.push(text(s, upgradeScript(core, s)));
  out.push(text(SETTINGS_FILE, settingsFile(core)));
  if (device.mac) out.push(text(`${device.mac}.txt`, phoneFile(core, device, true)));
  // The binaries this phone is sent to: its own branch of the script when it has one, else its model's.
  for (const a of phoneBinaries(core, device)) {
    out.push({ name: servedName(core, a), contentType: 'application/octet-stream', artifactId: a.id, md5: a.md5, size: a.size });
  }
  return out;
}

export const avayaAdapter = defineAdapter<AvayaConfig>({
  name: NAME,
  description: 'Avaya deskphones (16CC, 96x1, J100…): upgrade scripts, 46xxsettings.txt, $MACADDR.txt, BRURI backups',
  configSchema,
  profileSchema,
  // Phones fetch with Basic credentials (device id or MAC, device password) to get their secret lines; a hash suffices.
  credentials: 'hash',
  // Firmware by APPNAME, companions (JEM24_APPNAME…) as aux artifacts whose roles each profile names.
  slots: [{ kind: 'firmware' }, { kind: 'aux', roles: 'any' }],
  // The User-Agent carries the release it runs. Each phone whose own target differs from its model's (a
  // rollout stage, a pin, its group's release policy) gets an IF $MACADDR branch in the upgrade script, so
  // rollouts are staged per phone like any other family's.
  rolloutHealth: {
    reports: 'version',
    versionOf: releaseOfImage,
    normalize: normalRelease,
    reachable: (d) => d.mac !== null && d.model !== null,
  },
  // A phone's own binaries reach it only through its IF $MACADDR branch: a firmware pin on a phone APS cannot
  // name would never arrive, so it is refused rather than shown as a target the phone will not get.
  validateDevice(d) {
    const pinned = Object.keys(d.pins).filter((k) => k === 'firmware' || k.startsWith('aux'));
    if (pinned.length > 0 && (!d.mac || !d.model)) {
      throw new ApsError(
        'bad_request',
        `Avaya device ${d.id}: ${pinned.join(', ')} pinned, but the device has no ${d.mac ? 'model (--model)' : 'MAC (--mac)'}: the upgrade script names a phone's own binaries by $MACADDR, for its model`,
      );
    }
  },
  register,
  setup: (device, core) => avayaSetup(device, core),
  preview,
  async notify(device, core, config) {
    const vars = deviceVars(core, device);
    // protocols.md §(b) "SIP NOTIFY check-sync (Avaya)": the phone reboots and reads its files again.
    return core.push.sipCheckSync(vars, { event: 'check-sync', timers: config.sipTimers, advertisedHost: config.sipAdvertisedHost });
  },
  simulator: avayaSimulatorCommand,
  commands: avayaCommands,
});
