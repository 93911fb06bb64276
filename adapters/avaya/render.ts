// Pure renderers for the files an Avaya deskphone reads (seed 004, 16CC chapter 7 "General Download
// Process"; protocols.md §(b) "File chain", "Script / settings language", "Upgrade and APPNAME logic"):
//   - the family upgrade script: first one IF $MACADDR SEQ <mac> GOTO <tag> per phone whose own target differs
//     from its model's (phones of the same binaries share a tag), then one IF $MODEL4 SEQ <model> GOTO <tag>
//     per model with a firmware target, SET APPNAME (and companion names such as JEM24_APPNAME), GOTO GETSET,
//     # GETSET, GET 46xxsettings.txt;
//   - 46xxsettings.txt: profile parameters per model, group parameters per IF $GROUP SEQ n, GET $MACADDR.txt;
//   - a phone's own $MACADDR.txt.
// Only documented statements are written: SET, GET, GOTO, IF … SEQ … GOTO, "# TAG", and "##" comments.
// No I/O, clock or randomness: the same input gives the same bytes.
import { ApsError, normalizeMac } from '../../src/adapter-api.ts';
import { isWord, quoteValue, valueProblem } from './script-lang.ts';

/** One SET line to write, and where its value came from (named in errors, never the value). */
export interface Param {
  name: string;
  value: string;
  /** "profile j100 variable SIPDOMAIN", "device alice variable SIPPASSWORD"… */
  source: string;
}

/** A SET line; refuses a value that would break the file, naming the variable and never the value. */
export function setLine(p: Param): string {
  const problem = valueProblem(p.value);
  if (problem) throw new ApsError('bad_request', `${p.source} ${problem}: it cannot be written into an Avaya SET line`);
  if (!isWord(p.name)) throw new ApsError('bad_request', `${p.source}: "${p.name}" is not a parameter name`);
  return `SET ${p.name} ${quoteValue(p.value)}`;
}

/** A tag word from a free name: upper case, letters, digits and "_". */
function tagOf(prefix: string, name: string): string {
  return `${prefix}_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

function checkModel(model: string, where: string): void {
  if (!isWord(model) || model.includes('"')) throw new ApsError('bad_request', `${where}: model "${model}" is not one word`);
}

export interface ModelImage {
  /** The phone's $MODEL4 value (J179, 9608, 16CC). */
  model: string;
  /** SET APPNAME: the application binary's file name. */
  appname: string;
  /** Further names the family needs, e.g. { param: 'JEM24_APPNAME', file: 'FW_JEM24_R1_0_1_0_23.bin' }. */
  companions: Array<{ param: string; file: string }>;
}

/**
 * The binaries one phone gets instead of its model's (a pin, a rollout stage, its group's release policy…),
 * or `hold`: none at all, so it keeps what it runs (outside its window with nothing known to hold, or its own
 * profile names no firmware while another profile's branch for its model does).
 */
export type PhoneImage = { mac: string } & (Omit<ModelImage, 'model'> | { hold: true });

export interface UpgradeScriptInput {
  /** The name the phones request, written into the header comment. */
  scriptName: string;
  models: ModelImage[];
  /** Phones whose own target differs from their model's; each gets an IF $MACADDR line before the model branches. */
  phones?: PhoneImage[];
  /** The settings file GET last. */
  settingsFile: string;
}

/** The upgrade script of one family file name, in the shape of Avaya's own J100Supgrade.txt. */
export function renderUpgradeScript(input: UpgradeScriptInput): Buffer {
  const lines = [`## ${input.scriptName}: written by APS from its firmware catalog; edits here are overwritten.`];
  const seen = new Set<string>();
  const models = input.models.filter((m) => {
    const key = m.model.toLowerCase(); // SEQ ignores case: a second spelling could never match
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // Phones with the same binaries share one section: the script grows by one IF line per phone, not a section.
  const sections = new Map<string, { tag: string; image: Omit<ModelImage, 'model'>; macs: string[] }>();
  const macs = new Set<string>();
  for (const p of [...(input.phones ?? [])].sort((a, b) => a.mac.localeCompare(b.mac))) {
    // The form the registry stores and the phone has ($MACADDR): 12 lower-case hex digits.
    if (normalizeMac(p.mac) !== p.mac) throw new ApsError('bad_request', `${input.scriptName}: "${p.mac}" is not a $MACADDR value`);
    if (macs.has(p.mac)) continue; // the first IF for a MAC is the one the phone follows
    macs.add(p.mac);
    // No APPNAME set: the phone downloads nothing and reads its settings (Avaya upgrades only to an APPNAME).
    if ('hold' in p) {
      lines.push(`IF $MACADDR SEQ ${p.mac} GOTO GETSET`);
      continue;
    }
    const key = [p.appname, ...p.companions.map((c) => `${c.param}=${c.file}`)].join('\n');
    let s = sections.get(key);
    if (!s) sections.set(key, (s = { tag: `PHONES_${sections.size + 1}`, image: p, macs: [] }));
    s.macs.push(p.mac);
    lines.push(`IF $MACADDR SEQ ${p.mac} GOTO ${s.tag}`);
  }
  for (const m of models) {
    checkModel(m.model, input.scriptName);
    lines.push(`IF $MODEL4 SEQ ${m.model} GOTO ${tagOf('APP', m.model)}`);
  }
  lines.push('GOTO GETSET');
  for (const s of sections.values()) {
    const where = `phones ${s.macs.join(', ')}`;
    lines.push('', `# ${s.tag}`, `## ${s.macs.length} phone(s) whose own target differs from their model's`);
    lines.push(setLine({ name: 'APPNAME', value: s.image.appname, source: `${where} APPNAME` }));
    for (const c of s.image.companions) lines.push(setLine({ name: c.param, value: c.file, source: `${where} ${c.param}` }));
    lines.push('GOTO GETSET');
  }
  for (const m of models) {
    lines.push('', `# ${tagOf('APP', m.model)}`, setLine({ name: 'APPNAME', value: m.appname, source: `model ${m.model} APPNAME` }));
    for (const c of m.companions) lines.push(setLine({ name: c.param, value: c.file, source: `model ${m.model} ${c.param}` }));
    lines.push('GOTO GETSET');
  }
  lines.push('', '# GETSET', `GET ${input.settingsFile}`, '');
  return Buffer.from(lines.join('\n'), 'utf8');
}

export interface SettingsInput {
  /** Per profile, its models and parameters; profiles without models apply to every phone. */
  profiles: Array<{ name: string; models: string[]; params: Param[] }>;
  /** Per numbered group, its parameters (the phone's GROUP value, 0-999). */
  groups: Array<{ number: number; name: string; params: Param[] }>;
}

/** 46xxsettings.txt: profile parameters by $MODEL4, then group parameters by $GROUP, then the phone's own file. */
export function renderSettings(input: SettingsInput): Buffer {
  const lines = ['## 46xxsettings.txt: written by APS from profile and group variables; edits here are overwritten.'];
  const profiles = [...input.profiles].filter((p) => p.params.length > 0).sort((a, b) => a.name.localeCompare(b.name));
  for (const p of profiles.filter((x) => x.models.length === 0)) {
    lines.push(`## profile ${p.name} (every model)`, ...p.params.map(setLine));
  }
  const byModel = profiles.filter((p) => p.models.length > 0);
  if (byModel.length > 0) {
    const seen = new Set<string>();
    for (const p of byModel) {
      for (const m of p.models) {
        checkModel(m, `profile ${p.name}`);
        if (seen.has(m.toLowerCase())) continue; // the first profile naming a model is the one its phones get
        seen.add(m.toLowerCase());
        lines.push(`IF $MODEL4 SEQ ${m} GOTO ${tagOf('PROFILE', p.name)}`);
      }
    }
    lines.push('GOTO GROUPS');
    for (const p of byModel)
      lines.push('', `# ${tagOf('PROFILE', p.name)}`, `## profile ${p.name}`, ...p.params.map(setLine), 'GOTO GROUPS');
    lines.push('', '# GROUPS');
  }
  const groups = [...input.groups].filter((g) => g.params.length > 0).sort((a, b) => a.number - b.number);
  if (groups.length > 0) {
    for (const g of groups) lines.push(`IF $GROUP SEQ ${g.number} GOTO GROUP_${g.number}`);
    lines.push('GOTO PHONE');
    for (const g of groups) lines.push('', `# GROUP_${g.number}`, `## group ${g.name}`, ...g.params.map(setLine), 'GOTO PHONE');
    lines.push('', '# PHONE');
  }
  lines.push('GET $MACADDR.txt', '');
  return Buffer.from(lines.join('\n'), 'utf8');
}

/** One line of a phone's own file; secret lines are left out when the request may not have them. */
export interface PhoneLine {
  text: string;
  secret: boolean;
}

/** The phone's $MACADDR.txt, with or without its secret lines (a comment says lines were held back). */
export function renderPhoneFile(lines: PhoneLine[], withSecrets: boolean): Buffer {
  const out = ['## Per-phone settings: written by APS; edits here are overwritten.'];
  const held = lines.filter((l) => l.secret).length;
  for (const l of lines) if (withSecrets || !l.secret) out.push(l.text);
  if (!withSecrets && held > 0) out.push(`## ${held} line(s) held back: fetch over HTTPS from an allowed network or with credentials`);
  out.push('');
  return Buffer.from(out.join('\n'), 'utf8');
}

/** The SET lines of parameters, each marked secret when its name says so. */
export function paramLines(params: Param[], isSecret: (name: string) => boolean): PhoneLine[] {
  return params.map((p) => ({ text: setLine(p), secret: isSecret(p.name) }));
}

export interface BinaryFile {
  filename: string;
  sha256: string;
}

/**
 * The name a binary is served and named under in APPNAME. The phone downloads only when APPNAME differs
 * from what it runs, so one name must never stand for two contents: the bytes that first claimed a file
 * name (`owner`, a sha256) keep it, and other bytes under the same name get the first 8 hex digits of their
 * sha256 before the extension. Give new firmware its vendor name (it carries the release) and it keeps it.
 */
export function claimedName(f: BinaryFile, owner: string): string {
  if (f.sha256 === owner) return f.filename;
  const dot = f.filename.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [f.filename.slice(0, dot), f.filename.slice(dot)] : [f.filename, ''];
  return `${stem}_${f.sha256.slice(0, 8)}${ext}`;
}
