// The files APS serves Avaya phones, made from the core's state. One file server folder (HTTPDIR) holds
// them all, as on a real Avaya file server:
//   <script>.txt / .scr   the family upgrade scripts (shared: the phone says only its model, in $MODEL4)
//   <binary>              each model's current firmware target and companion binaries, by APPNAME
//   46xxsettings.txt      profile and group parameters (shared)
//   <mac>.txt             one phone's own parameters (its device variables, template, secrets)
// Shared files are revisioned under the owner "*avaya" (no device id can start with "*").
import {
  isSecretVar,
  profileSettings as parsedSettings,
  type AdapterServices,
  type ArtifactRecord,
  type DeviceRecord,
  type GroupRecord,
  type Profile,
  type RenderedFile,
} from '../../src/adapter-api.ts';
import { claimedName, paramLines, renderPhoneFile, renderSettings, renderUpgradeScript, type Param, type PhoneLine } from './render.ts';
import { isAvayaParameter } from './script-lang.ts';
import { DOCUMENTED_SCRIPTS, SETTINGS_FILE, groupNumber, profileSchema, type AvayaProfileSettings } from './settings.ts';
import { templateLines } from './template-lines.ts';

export const NAME = 'avaya';
const SHARED = '*avaya';

/** The core services the files need (a subset of AdapterContext). */
export type FilesCore = Pick<AdapterServices, 'catalog' | 'devices' | 'profiles' | 'rendered' | 'urls' | 'state'>;

export function avayaProfiles(core: Pick<AdapterServices, 'profiles'>): Profile[] {
  return core.profiles
    .list()
    .filter((p) => p.adapter === NAME)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The profile's Avaya settings, parsed once per loaded profile (the contract's memo). */
export function profileSettings(p: Profile): AvayaProfileSettings {
  return parsedSettings(profileSchema, p);
}

/** Every script name a phone may ask for: the documented ones and the ones profiles add. */
export function scriptNames(core: Pick<AdapterServices, 'profiles'>): string[] {
  const names = new Set<string>(DOCUMENTED_SCRIPTS);
  for (const p of avayaProfiles(core)) for (const n of profileSettings(p).upgradeScripts) names.add(n);
  return [...names];
}

interface Image {
  model: string;
  firmware: ArtifactRecord;
  companions: Array<{ param: string; artifact: ArtifactRecord }>;
}

/** The firmware target of each model of a profile: what a phone of that model, in no group, should run. */
function images(core: FilesCore, p: Profile): Image[] {
  const { companions } = profileSettings(p);
  const out: Image[] = [];
  for (const model of p.models) {
    // Shared files cannot see a phone's group or pins: the target is the model's, as for a new phone.
    const subject = { id: SHARED, profile: p.name, model, group: null, pins: {} };
    const firmware = core.catalog.target(subject, 'firmware');
    if (!firmware) continue;
    const extra: Image['companions'] = [];
    for (const [param, role] of Object.entries(companions)) {
      const a = core.catalog.target(subject, 'aux', role);
      if (a) extra.push({ param, artifact: a });
    }
    out.push({ model, firmware, companions: extra });
  }
  return out;
}

const CLAIM = 'binary-name:';

/**
 * The name a binary is served and named under in APPNAME (render.ts claimedName). The first bytes served
 * under a file name keep it; other bytes under the same name get their hash in it. The claims live in the
 * adapter's state, so they survive restarts and are the same on every node.
 */
function servedName(core: FilesCore, a: ArtifactRecord): string {
  const key = CLAIM + a.filename.toLowerCase();
  let owner = core.state.get<string>(key);
  if (owner === undefined) {
    owner = a.sha256;
    core.state.set(key, owner);
  }
  return claimedName(a, owner);
}

function profilesKey(core: FilesCore): string {
  return avayaProfiles(core)
    .map((p) => p.hash)
    .join(',');
}

/** The binaries phones may fetch now (current targets), by lower-case served name. */
export function currentBinaries(core: FilesCore): Map<string, { name: string; artifact: ArtifactRecord }> {
  const out = new Map<string, { name: string; artifact: ArtifactRecord }>();
  for (const p of avayaProfiles(core)) {
    for (const img of images(core, p)) {
      for (const a of [img.firmware, ...img.companions.map((c) => c.artifact)]) {
        const name = servedName(core, a);
        out.set(name.toLowerCase(), { name, artifact: a });
      }
    }
  }
  return out;
}

/** One upgrade script: the branches of every profile that lists this name in upgradeScripts. */
export function upgradeScript(core: FilesCore, scriptName: string): RenderedFile {
  return core.rendered.get(SHARED, `script:${scriptName}`, profilesKey(core), () => {
    const models = avayaProfiles(core)
      .filter((p) => profileSettings(p).upgradeScripts.includes(scriptName))
      .flatMap((p) => images(core, p))
      .map((img) => ({
        model: img.model,
        appname: servedName(core, img.firmware),
        companions: img.companions.map((c) => ({ param: c.param, file: servedName(core, c.artifact) })),
      }));
    return renderUpgradeScript({ scriptName, models, settingsFile: SETTINGS_FILE });
  });
}

/** Avaya parameters among variables (upper-case names), in name order, secret ones or the others. */
function params(vars: Readonly<Record<string, string>>, source: string, secret: boolean): Param[] {
  return Object.keys(vars)
    .filter((k) => isAvayaParameter(k) && isSecretVar(k) === secret)
    .sort()
    .map((k) => ({ name: k, value: vars[k]!, source: `${source} variable ${k}` }));
}

/** The groups this adapter's phones are in (the only ones a phone of this file server can have). */
function groupsInUse(core: FilesCore): GroupRecord[] {
  const names = [
    ...new Set(
      core.devices
        .list()
        .map((d) => d.group)
        .filter((g): g is string => g !== null),
    ),
  ].sort();
  return names.map((n) => core.devices.group(n)).filter((g): g is GroupRecord => g !== undefined);
}

/**
 * 46xxsettings.txt. Secret-looking parameters of a profile or group are not written here (anyone may
 * fetch this file): they travel in each member phone's own file, under its access rule.
 */
export function settingsFile(core: FilesCore): RenderedFile {
  return core.rendered.get(SHARED, 'settings', profilesKey(core), () =>
    renderSettings({
      profiles: avayaProfiles(core).map((p) => ({ name: p.name, models: p.models, params: params(p.vars, `profile ${p.name}`, false) })),
      groups: groupsInUse(core)
        .map((g) => ({ g, number: groupNumber(g.name, g.vars) }))
        .filter((x): x is { g: GroupRecord; number: number } => x.number !== null)
        .map(({ g, number }) => ({ number, name: g.name, params: params(g.vars, `group ${g.name}`, false) })),
    }),
  );
}

/** Where a phone PUTs and GETs its backups (BRURI), when the device does not set BRURI itself. */
export function backupUri(core: Pick<AdapterServices, 'urls'>, mac: string): string {
  return `${core.urls.https ?? core.urls.http}/${NAME}/backup/${mac}/`;
}

/** The profile whose section 46xxsettings.txt gives phones of this model (the first by name that lists it). */
function modelOwner(core: FilesCore, model: string): Profile | undefined {
  return avayaProfiles(core).find((p) => p.models.some((m) => m.toLowerCase() === model.toLowerCase()));
}

/** The lines of a phone's own file, in the order the phone applies them (later SETs win). */
export function phoneLines(core: FilesCore, device: DeviceRecord): PhoneLine[] {
  const profile = core.profiles.require(device.profile);
  const group = device.group ? core.devices.group(device.group) : undefined;
  const numbered = group ? groupNumber(group.name, group.vars) !== null : false;
  // 46xxsettings.txt branches by $MODEL4 to the first profile naming the model: a phone of a later profile
  // naming the same model gets its profile's parameters here, and its group's again after them (same order).
  const shadowed = device.model !== null && modelOwner(core, device.model)?.name !== profile.name;
  const lines: PhoneLine[] = [];
  lines.push(...paramLines(params(profile.vars, `profile ${profile.name}`, true), isSecretVar));
  if (shadowed) lines.push(...paramLines(params(profile.vars, `profile ${profile.name}`, false), isSecretVar));
  if (group) {
    // A numbered group's plain parameters are in 46xxsettings.txt; an unnumbered one has no IF there.
    if (!numbered || shadowed) lines.push(...paramLines(params(group.vars, `group ${group.name}`, false), isSecretVar));
    lines.push(...paramLines(params(group.vars, `group ${group.name}`, true), isSecretVar));
  }
  const own = device.vars;
  if (own.BRURI === undefined && device.mac) lines.push({ text: `SET BRURI ${backupUri(core, device.mac)}`, secret: false });
  lines.push(...paramLines([...params(own, `device ${device.id}`, false), ...params(own, `device ${device.id}`, true)], isSecretVar));
  if (profile.template) {
    const vars = { ...profile.vars, ...(group?.vars ?? {}), ...own };
    const context = {
      device: { id: device.id, profile: device.profile, model: device.model ?? '', mac: device.mac ?? '', group: device.group ?? '' },
      vars,
    };
    lines.push(...templateLines(profile.template.render, context, isSecretVar, `device ${device.id} template ${profile.template.path}`));
  }
  return lines;
}

/** The phone's $MACADDR.txt, with its secret lines or without them. */
export function phoneFile(core: FilesCore, device: DeviceRecord, withSecrets: boolean): RenderedFile {
  const profile = core.profiles.require(device.profile);
  return core.rendered.get(device.id, withSecrets ? 'phone' : 'phone-public', `${profile.hash}|${core.urls.https ?? core.urls.http}`, () =>
    renderPhoneFile(phoneLines(core, device), withSecrets),
  );
}
