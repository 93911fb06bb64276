// One device's tree, the same over HTTP (under /audiocodes/) and FTP (at the root of its login):
//   <mac>.ini                                  the rendered ini (IniFileURL)
//   <mac>/cmp/<name with version>              the firmware target (CmpFileURL)
//   <mac>/aux/<role>/<sha256[0:12]>/<file>     each auxiliary target (CptFileURL, …)
// seed 001 §32: the cmp is judged by its version once downloaded, and an auxiliary file is fetched once
// per URL value, so the aux path carries the content hash: new bytes, new URL, one new download.
import {
  deviceVars,
  profileSettings,
  type AdapterServices,
  type RenderedFile,
  renderProfileTemplate,
  templateContext,
  type ArtifactRecord,
  type DeviceRecord,
} from '../../src/adapter-api.ts';
import { renderAudioCodesIni, type AuxKind } from './render.ts';
import { AUX_ROLES, profileSchema, scheduleOf, schemeOf, SettingsError, type AudioCodesConfig, type Scheme } from './settings.ts';
import { decodeIni, type IniEncoding } from './ini-encoding.ts';
import { checkIniVariables } from './template-vars.ts';

export interface ArtifactEntry {
  artifact: ArtifactRecord;
  /** Path inside the device's tree, no leading slash. */
  path: string;
}

export interface AuxEntry extends ArtifactEntry {
  role: string;
  kind: AuxKind;
}

export interface DeviceTree {
  /** 12 upper-case hex digits: the first path segment of every file. */
  mac: string;
  scheme: Scheme;
  iniPath: string;
  ini: RenderedFile;
  cmp?: ArtifactEntry;
  aux: AuxEntry[];
}

const AUX_ENTRIES = Object.entries(AUX_ROLES);

/** A cmp name that names its version (the operator sees which firmware a gateway was sent). */
export function versionedName(a: ArtifactRecord): string {
  const version = a.version.replace(/[^A-Za-z0-9.]/g, '');
  if (version && a.filename.includes(version)) return a.filename;
  const dot = a.filename.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [a.filename.slice(0, dot), a.filename.slice(dot)] : [a.filename, ''];
  return `${stem}_${version || `a${a.id}`}${ext}`;
}

export function auxPath(mac: string, role: string, a: ArtifactRecord): string {
  return `${mac}/aux/${role}/${a.sha256.slice(0, 12)}/${a.filename}`;
}

/**
 * Where the device fetches its tree, per scheme; FTP carries the login in the URL (protocols.md §(a)).
 * A device without a password can only fetch over FTP anonymously: without anonymous FTP the URLs could
 * never be used, so the ini is refused (a settings error) rather than served with dead URLs.
 */
function baseUrl(
  core: AdapterServices,
  config: AudioCodesConfig,
  device: DeviceRecord,
  scheme: Scheme,
  secret: string | undefined,
): string {
  if (scheme === 'http') return `${core.urls.http}/audiocodes/`;
  if (scheme === 'https') {
    if (!core.urls.https) throw new SettingsError('scheme https, but HTTPS is disabled');
    return `${core.urls.https}/audiocodes/`;
  }
  if (!core.urls.ftp) throw new SettingsError('scheme ftp, but FTP is disabled');
  const anonymous = config.ftpAnonymous;
  if (!secret && !anonymous) {
    throw new SettingsError(
      `device ${device.id}: update_scheme ftp needs a device password (the FTP login written into the URLs) or anonymous FTP (ftp.anonymous and adapters.audiocodes.ftpAnonymous)`,
    );
  }
  const u = new URL(core.urls.ftp);
  const login = secret ? `${encodeURIComponent(device.id)}:${encodeURIComponent(secret)}@` : '';
  return `ftp://${login}${u.host}/`;
}

/**
 * The ini's source: the device's own config artifact (an imported ini, used as it is) or the profile
 * template rendered, after checking that no variable it uses would break the file (template-vars.ts).
 */
function iniSource(core: AdapterServices, device: DeviceRecord, encoding: IniEncoding): { text: string; encoding: IniEncoding } {
  const artifact = core.catalog.target(device, 'config');
  // An imported ini is served in the encoding it came in (ini-encoding.ts).
  if (artifact) return decodeIni(core.catalog.readSmall(artifact));
  const template = core.profiles.require(device.profile).template;
  if (!template) return { text: '', encoding };
  const context = templateContext(core, device);
  try {
    checkIniVariables(context.vars, (vars) => template.render({ ...context, vars }));
  } catch (e) {
    if (e instanceof SettingsError) throw new SettingsError(`device ${device.id}: ${e.message}`);
    throw e;
  }
  return { text: renderProfileTemplate(core, device) ?? '', encoding };
}

/** Everything one gateway may fetch now. The ini renders once per change (RenderedFiles cache). */
export function deviceTree(core: AdapterServices, config: AudioCodesConfig, device: DeviceRecord): DeviceTree {
  if (!device.mac) throw new SettingsError(`device ${device.id} has no MAC`);
  // Upper case, as the gateway writes <MAC> (protocols.md §(a) step 1): the boot URL and IniFileURL match.
  const mac = device.mac.toUpperCase();
  const profile = core.profiles.require(device.profile);
  const settings = profileSettings(profileSchema, profile);
  const vars = deviceVars(core, device);
  const scheme = schemeOf(settings, vars);

  const fw = core.catalog.target(device, 'firmware');
  const cmp = fw && { artifact: fw, path: `${mac}/cmp/${versionedName(fw)}` };
  const aux: AuxEntry[] = [];
  for (const [role, kind] of AUX_ENTRIES) {
    const a = core.catalog.target(device, 'aux', role);
    if (a) aux.push({ role, kind, artifact: a, path: auxPath(mac, role, a) });
  }

  const iniPath = `${mac}.ini`;
  const secret = device.passwordHash ? core.devices.secretOf(device) : undefined;
  const base = baseUrl(core, config, device, scheme, secret);
  const ini = core.rendered.get(device.id, 'ini', `${profile.hash}|${base}`, () => {
    const source = iniSource(core, device, settings.iniEncoding);
    return renderAudioCodesIni({
      template: source.text,
      encoding: source.encoding,
      // The gateway resets parameters missing from a downloaded ini to their defaults
      // (SetDefaultOnINIFileProcess, protocols.md §(a)), so its own credentials travel in every ini.
      params: secret && scheme !== 'ftp' ? { AUPDDigestUsername: device.id, AUPDDigestPassword: secret } : {},
      iniFileUrl: base + iniPath,
      firmwareUrl: cmp ? base + cmp.path : null,
      auxUrls: Object.fromEntries(aux.map((x) => [x.kind, base + x.path])),
      schedule: scheduleOf(settings, vars, core.windows.of(device)),
      checkIfIniChanged: settings.checkIfIniChanged,
    });
  });
  return { mac, scheme, iniPath, ini, cmp, aux };
}

/** The artifact at a tree path, if it is one of the device's current targets, with its event file name. */
export function artifactAt(tree: DeviceTree, path: string): (ArtifactEntry & { file: string }) | undefined {
  if (tree.cmp?.path === path) return { ...tree.cmp, file: 'cmp' };
  const aux = tree.aux.find((x) => x.path === path);
  return aux && { ...aux, file: `aux:${aux.role}` };
}
