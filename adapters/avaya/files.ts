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
import { normalRelease, releaseOfImage } from './identify.ts';
import { isAvayaParameter } from './script-lang.ts';
import { DOCUMENTED_SCRIPTS, SETTINGS_FILE, groupNumber, profileSchema, type AvayaProfileSettings } from './settings.ts';
import { templateLines } from './template-lines.ts';

export const NAME = 'avaya';
const SHARED = '*avaya';

/** The core services the files need (a subset of AdapterContext). */
export type FilesCore = Pick<AdapterServices, 'catalog' | 'devices' | 'profiles' | 'rendered' | 'urls' | 'state' | 'windows'>;

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

/** What the catalog chooses a target for: a device, or a model as a new phone of it sees it. */
type TargetSubject = Parameters<AdapterServices['catalog']['target']>[0];

interface Binaries {
  firmware: ArtifactRecord;
  companions: Array<{ param: string; artifact: ArtifactRecord }>;
}

interface Image extends Binaries {
  model: string;
}

/**
 * The firmware and companions the catalog gives a subject (a device, or a model as a new phone of it sees
 * it): pins, rollout stage, release policy and maintenance window all come through the same reader.
 */
function binariesOf(core: FilesCore, p: Profile, subject: TargetSubject): Binaries | undefined {
  const firmware = core.catalog.target(subject, 'firmware');
  if (!firmware) return undefined;
  const companions: Binaries['companions'] = [];
  for (const [param, role] of Object.entries(profileSettings(p).companions)) {
    const a = core.catalog.target(subject, 'aux', role);
    if (a) companions.push({ param, artifact: a });
  }
  return { firmware, companions };
}

/** The firmware target of each model of a profile: what a phone of that model, in no group, should run. */
function images(core: FilesCore, p: Profile): Image[] {
  const out: Image[] = [];
  for (const model of p.models) {
    // The model branch is what a phone gets when no IF $MACADDR line names it: the target of a new phone.
    const b = binariesOf(core, p, { id: SHARED, profile: p.name, model, group: null, pins: {} });
    if (b) out.push({ model, ...b });
  }
  return out;
}

function sameBinaries(a: Binaries, b: Binaries): boolean {
  const ids = (x: Binaries): string => [x.firmware.id, ...x.companions.map((c) => `${c.param}=${c.artifact.id}`)].join(',');
  return ids(a) === ids(b);
}

/** A phone's own line: its binaries, or `hold` (none: it keeps what it runs). */
type PhoneBranch = { mac: string } & (Binaries | { hold: true });

/**
 * The phones of these profiles whose own target differs from the model branch they would take: each gets
 * an IF $MACADDR line (render.ts). One the catalog gives nothing (outside its window with nothing known to
 * hold, `newDevices: wait`, or its profile has no firmware while another profile's branch for its model has)
 * gets a line that sets no APPNAME, so the model branch never reaches it. A phone without a MAC or a model
 * cannot be told apart in the script and follows its model.
 */
function phoneImages(
  core: FilesCore,
  devices: readonly DeviceRecord[],
  profiles: readonly Profile[],
  branches: readonly Image[],
): PhoneBranch[] {
  const byName = new Map(profiles.map((p) => [p.name, p]));
  const out: PhoneBranch[] = [];
  for (const d of devices) {
    const p = byName.get(d.profile);
    if (!p || !d.mac || !d.model) continue;
    const own = ownBinaries(core, p, d);
    const branch = branchFor(branches, d.model);
    if (!own) {
      if (branch && !runsBranch(core, d, branch)) out.push({ mac: d.mac, hold: true });
      continue;
    }
    if (branch && sameBinaries(own, branch)) continue;
    out.push({ mac: d.mac, ...own });
  }
  return out;
}

/**
 * A phone's own binaries: its target as the catalog gives it, except while its window holds it (closed, and
 * the phone not new): then none, so its line sets no APPNAME and it keeps what it runs. Avaya needs no record
 * of what the phone fetched to hold it (a shared file names no phone, so that record can miss or be wrong
 * behind NAT or across a window's end): a held phone is never sent another image, newer or older.
 */
function ownBinaries(core: FilesCore, p: Profile, d: DeviceRecord): Binaries | undefined {
  return core.windows.holds(d) ? undefined : binariesOf(core, p, d);
}

/**
 * Whether the phone reports running the branch's image, which names no companion: the branch then changes
 * nothing for it and needs no line of its own (outside a window most phones run what their model's branch
 * holds, so the script does not grow by a line per phone).
 */
function runsBranch(core: FilesCore, d: DeviceRecord, branch: Image): boolean {
  const runs = core.devices.state(d.id)?.reported.firmware;
  const release = releaseOfImage(branch.firmware);
  return branch.companions.length === 0 && typeof runs === 'string' && release !== undefined && normalRelease(runs) === release;
}

/** The branch a phone of this model takes: the first naming its $MODEL4 (the model's first 4 characters: J179, 9608). */
function branchFor(branches: readonly Image[], model: string): Image | undefined {
  const m4 = model.slice(0, 4).toLowerCase();
  return branches.find((b) => b.model.toLowerCase() === m4);
}

/**
 * The binaries the upgrade script sends this phone to: with a MAC and a model, its own target (none when the
 * catalog gives it none: its line holds it); else its model's branch.
 */
export function phoneBinaries(core: FilesCore, device: DeviceRecord): ArtifactRecord[] {
  const p = core.profiles.require(device.profile);
  let b: Binaries | undefined;
  if (device.mac && device.model) b = ownBinaries(core, p, device);
  else if (device.model) {
    const branches = avayaProfiles(core).flatMap((q) => images(core, q));
    b = branchFor(branches, device.model);
  }
  return b ? [b.firmware, ...b.companions.map((c) => c.artifact)] : [];
}

const CLAIM = 'binary-name:';

/**
 * The name a binary is served and named under in APPNAME (render.ts claimedName). The first bytes served
 * under a file name keep it; other bytes under the same name get their hash in it. The claims live in the
 * adapter's state, so they survive restarts and are the same on every node.
 */
export function servedName(core: FilesCore, a: ArtifactRecord): string {
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

type Served = Map<string, { name: string; artifact: ArtifactRecord }>;

/** The binaries a rendered script names, by the bytes the rendered-files cache hands out (one plan per render). */
const scriptBinaries = new WeakMap<Buffer, Served>();

/**
 * The (profile, group) pairs of the adapter's phones as the last script render saw them, per services
 * object: their window's open flag goes into the cache key, so a group window that opens or closes re-renders the script
 * (the store generation does not move with the clock). A membership change moves the generation anyway.
 */
const windowSubjects = new WeakMap<object, Array<{ profile: string; group: string | null }>>();

function windowKey(core: FilesCore): string {
  return (windowSubjects.get(core) ?? []).map((s) => (core.windows.of(s)?.open ? '1' : '0')).join('');
}

function add(out: Served, core: FilesCore, b: Binaries): void {
  for (const a of [b.firmware, ...b.companions.map((c) => c.artifact)]) {
    const name = servedName(core, a);
    out.set(name.toLowerCase(), { name, artifact: a });
  }
}

/** The binaries of the models' branches (what a phone no IF $MACADDR line names may fetch), by lower-case served name. */
function currentBinaries(core: FilesCore): Served {
  const out: Served = new Map();
  for (const p of avayaProfiles(core)) for (const img of images(core, p)) add(out, core, img);
  return out;
}

/**
 * A binary phones may fetch now, by lower-case served name: a model branch's, else one an upgrade script
 * names for some phones (read from the cached scripts: no scan of the devices per request).
 */
export function servedBinary(core: FilesCore, lower: string): { name: string; artifact: ArtifactRecord } | undefined {
  const found = currentBinaries(core).get(lower);
  if (found) return found;
  for (const p of avayaProfiles(core)) {
    for (const s of profileSettings(p).upgradeScripts) {
      let f: RenderedFile;
      try {
        f = upgradeScript(core, s);
      } catch {
        continue; // a script that cannot be rendered names nothing (its request gets the 500)
      }
      const hit = scriptBinaries.get(f.bytes)?.get(lower);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * One upgrade script: the branches of every profile that lists this name in upgradeScripts, and before them
 * an IF $MACADDR line for each of their phones whose own target differs from its model's. Rendered once per
 * store generation (device, group, artifact and rollout writes move it): one scan of the devices per change.
 */
export function upgradeScript(core: FilesCore, scriptName: string): RenderedFile {
  return core.rendered.get(SHARED, `script:${scriptName}`, `${profilesKey(core)}|${windowKey(core)}`, () => {
    const profiles = avayaProfiles(core).filter((p) => profileSettings(p).upgradeScripts.includes(scriptName));
    const branches = profiles.flatMap((p) => images(core, p));
    const devices = core.devices.list();
    const phones = phoneImages(core, devices, profiles, branches);
    const served: Served = new Map();
    for (const b of [...branches, ...phones]) if (!('hold' in b)) add(served, core, b);
    // Every script's render sees the same devices (the adapter's), so each leaves the same pairs behind.
    const subjects = new Map<string, { profile: string; group: string | null }>();
    for (const d of devices) subjects.set(`${d.profile}\0${d.group ?? ''}`, { profile: d.profile, group: d.group });
    windowSubjects.set(
      core,
      [...subjects.keys()].sort().map((k) => subjects.get(k)!),
    );
    const image = (b: Binaries): { appname: string; companions: Array<{ param: string; file: string }> } => ({
      appname: servedName(core, b.firmware),
      companions: b.companions.map((c) => ({ param: c.param, file: servedName(core, c.artifact) })),
    });
    const bytes = renderUpgradeScript({
      scriptName,
      models: branches.map((b) => ({ model: b.model, ...image(b) })),
      phones: phones.map((p) => ('hold' in p ? p : { mac: p.mac, ...image(p) })),
      settingsFile: SETTINGS_FILE,
    });
    scriptBinaries.set(bytes, served);
    return bytes;
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
