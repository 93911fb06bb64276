// Everything one device gets: its update script (rendered from the catalog and its settings, cached per
// change), the firmware, boot code and BMC artifacts the script names, and its config. Not pure (reads the
// core); the bytes come from the pure renderer in render.ts.
import { isIP } from 'node:net';
import {
  deviceVars,
  ApsError,
  profileSettings,
  renderDeviceConfig,
  type AdapterServices,
  type ArtifactRecord,
  type DeviceRecord,
  type DeviceWindow,
  type PublicUrls,
  type RenderedFile,
} from '../../src/adapter-api.ts';
import { renderScript, type LoadCommand, type ScriptInput } from './render.ts';
import {
  NAME,
  VARS,
  parseHours,
  profileSchema,
  standardNames,
  type InnovaphoneConfig,
  type InnovaphoneProfileSettings,
  type StandardNames,
} from './settings.ts';

/** The adapter's services plus its config: what register() gets, and what setup/preview build. */
export type Services = AdapterServices & { config: InnovaphoneConfig };

export interface InnovaphoneFiles {
  script: RenderedFile;
  firmware?: ArtifactRecord;
  boot?: ArtifactRecord;
  bmc?: ArtifactRecord;
  /** Active devices only: a pending device gets the product-wide part of the script. */
  config?: RenderedFile;
  settings: InnovaphoneProfileSettings;
  names: StandardNames;
}

/** What the device said it runs, as far as the script depends on it. */
export interface Reported {
  firmware?: string;
  boot?: string;
  bmc?: string;
}

export const CONFIG_FILE = 'config.txt';
/** BMC artifacts: kind `aux` with this role. */
export const BMC_ROLE = 'bmc';

/** The profile's settings, parsed once per loaded profile (the contract's memo), not on every poll. */
export function settingsOf(s: Pick<AdapterServices, 'profiles'>, profile: string): InnovaphoneProfileSettings {
  return profileSettings(profileSchema, s.profiles.require(profile));
}

/**
 * `http(s)://<IP>:<port>/innovaphone`: the public URL, with its host replaced by `adapters.innovaphone.address`
 * when it names a host. Innovaphone URLs "do not support host names" (seed 003): without an address this
 * refuses, naming the setting, rather than hand the device a URL it cannot use.
 */
export function baseUrl(urls: PublicUrls, config: InnovaphoneConfig, secure: boolean): string {
  const pub = secure && urls.https ? urls.https : urls.http;
  const u = new URL(pub);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) {
    if (!config.address) {
      throw new ApsError(
        'invalid_config',
        `innovaphone devices cannot use host names: the public URL ${u.origin} names "${host}"; set adapters.innovaphone.address to the IP address devices reach APS at`,
      );
    }
    u.hostname = isIP(config.address) === 6 ? `[${config.address}]` : config.address;
  }
  return `${u.origin}${u.pathname.replace(/\/$/, '')}/${NAME}`;
}

/** The update URL to configure on a device or hand out in DHCP option 215, with the placeholders the device fills in. */
export function updateUrl(base: string): string {
  return `${base}/up/#m/#h/#t/#i/`;
}

/**
 * The token in a device's backup URL: a PUT carries it back, so a PUT naming another device's MAC (from a
 * script this device was given, or a guessed URL) is refused. Stable per device, so the script is too.
 */
export function backupToken(s: Pick<AdapterServices, 'secrets'>, deviceId: string): string {
  return s.secrets.hmac('backup-token', deviceId).toString('base64url').slice(0, 22);
}

function varsOf(s: Services, device: DeviceRecord): Record<string, string> {
  return deviceVars(s, device);
}

/**
 * The update window: the device's or its group's variables, else the hours of its maintenance window (the
 * core serves changes only inside it; `/allow` keeps the device from even asking outside it), else the
 * profile's settings.
 */
function windowOf(
  settings: InnovaphoneProfileSettings,
  vars: Record<string, string>,
  window: DeviceWindow | undefined,
): ScriptInput['times'] {
  const allowVar = vars[VARS.allow]?.trim();
  const initialVar = vars[VARS.initial]?.trim();
  try {
    const allow = allowVar ? parseHours(allowVar, VARS.allow) : window ? window.hours : settings.allowHours;
    if (initialVar && !/^\d{1,5}$/.test(initialVar)) throw new Error(`${VARS.initial} must be a whole number of minutes`);
    const initialMinutes = initialVar ? Number(initialVar) : settings.initialMinutes;
    return { allow, initialMinutes };
  } catch (e) {
    throw new ApsError('bad_request', `innovaphone: ${(e as Error).message}`);
  }
}

/**
 * A build serial as the device compares it: the artifact's version, else its catalog id (which only grows).
 * The script's token must be printable ASCII without spaces: a version such as "13r2 sr5" becomes
 * "13r2-sr5" rather than breaking every script of the product.
 */
export function buildSerial(a: ArtifactRecord): string {
  const token = a.version.trim().replace(/[^\x21-\x7e]+/g, '-');
  return token || String(a.id);
}

export function innovaphoneFiles(s: Services, device: DeviceRecord, reported: Reported, secure: boolean): InnovaphoneFiles {
  const profile = s.profiles.require(device.profile);
  const settings = settingsOf(s, device.profile);
  const names = standardNames(settings);
  if (!device.mac)
    throw new ApsError('bad_request', `innovaphone device ${device.id} has no MAC: set one with aps device set ${device.id} --mac MAC`);
  const base = baseUrl(s.urls, s.config, secure);
  const active = device.status === 'active';
  const vars = varsOf(s, device);
  const boot = s.catalog.target(device, 'bootstrap');
  const firmware = s.catalog.target(device, 'firmware');
  const bmc = names.bmc ? s.catalog.target(device, 'aux', BMC_ROLE) : undefined;
  const config = active ? renderDeviceConfig(s, device) : undefined;
  const finals = settings.finals;
  const load = (a: ArtifactRecord, final: LoadCommand['final']): LoadCommand => ({
    url: `${base}/fw/${device.mac}/${a.id}/`,
    final,
    serial: buildSerial(a),
  });
  const full: ScriptInput = {
    times: windowOf(settings, vars, s.windows.of(device)),
    boot: boot && load(boot, finals.boot),
    prot: firmware && load(firmware, finals.prot),
    bmc: bmc && load(bmc, finals.bmc),
    cfg: config && { url: `${base}/cfg/${device.mac}/${CONFIG_FILE}`, final: finals.cfg, serial: String(config.revision.serial) },
    scfg:
      active && settings.backups.enabled
        ? {
            url: `${base}/backup/#m/${backupToken(s, device.id)}/#b${settings.backups.slots}/#d`,
            final: finals.scfg,
            // A new config is backed up once it is loaded; /force repeats the backup when nothing changed.
            serial: config ? `c${config.revision.serial}` : 'APS',
            forceHours: settings.backups.forceHours,
          }
        : undefined,
    wlan: settings.wlan,
  };
  const key = `${profile.hash}|${base}|${active}`;
  // The check serial is the revision of the full script (every command, whatever the device reports), so
  // it moves only when what the device should have changes, never because a download it made is now
  // reported and its command is left out.
  const serialFile = s.rendered.get(device.id, secure ? 'update-serial-https' : 'update-serial', key, () => renderScript(full));
  const served: ScriptInput = {
    ...full,
    boot: full.boot?.serial === reported.boot ? undefined : full.boot,
    prot: full.prot?.serial === reported.firmware ? undefined : full.prot,
    bmc: full.bmc?.serial === reported.bmc ? undefined : full.bmc,
    check: { final: finals.check, serial: String(serialFile.revision.serial) },
  };
  const script = s.rendered.get(
    device.id,
    secure ? 'update-https' : 'update',
    `${key}|${JSON.stringify([reported.boot, reported.firmware, reported.bmc])}`,
    () => renderScript(served),
  );
  return { script, firmware, boot, bmc, config, settings, names };
}
