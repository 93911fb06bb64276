// Renders the per-device ini an AudioCodes gateway fetches through Automatic Update.
// Pure: no I/O, clock or randomness; everything comes in through AudioCodesRenderInput, and the same input
// gives the same bytes. That matters on the device side: with AUPDCheckIfIniChanged the gateway CRCs the
// file and discards it when the CRC matches (protocols.md §(a) "Parameters"), and the core's revision
// (Last-Modified for the If-Modified-Since check, §(a) "What one check does", step 2) only moves when the
// bytes do.
//
// Variables: the caller's template engine (the core's handlebars wiring) substitutes the device's variables
// into the template text before it gets here, so a profile can place them anywhere, table rows included.
// `params` is a structured overlay for scalars that need safe quoting (a value the file can't hold is
// refused with an IniError naming the parameter, never written broken). The Automatic Update parameters
// below are owned by APS: the template's values for them are replaced or removed.
import { ApsError } from '../../src/adapter-api.ts';
import { cloneDoc, deleteParam, parseIni, setParam, writeIni } from './ini-doc.ts';
import type { IniDoc } from './ini-doc.ts';
import { encodeIni, type IniEncoding } from './ini-encoding.ts';

/**
 * Auxiliary files and the ini parameter carrying each one's URL (seed 001 §32 "Auxiliary files"; protocols.md §(a)).
 * The FXS/FXO coefficient parameters are spelled as in the MP-11x 6.60A parameter table (`FXSCoeffFileUrl`,
 * `FXOCoeffFileUrl`, "a link to an FXS/FXO coefficients file, to be downloaded from a remote server"); the 5.0/6.2
 * manuals write `FXSCoeffFileURL`, and parameter names are case-insensitive.
 */
export const AUX_URL_PARAMS = {
  cpt: 'CptFileURL',
  prt: 'PrtFileURL',
  vp: 'VPFileUrl',
  featureKey: 'FeatureKeyURL',
  tlsRoot: 'TLSRootFileUrl',
  tlsCert: 'TLSCertFileUrl',
  userInfo: 'UserInfoFileURL',
  fxsCoeff: 'FXSCoeffFileUrl',
  fxoCoeff: 'FXOCoeffFileUrl',
} as const;
export type AuxKind = keyof typeof AUX_URL_PARAMS;

/**
 * When the device checks (seed 001 §32: "At a user-defined time of day … AutoUpdatePredefinedTime" or
 * "Periodically … AutoUpdateFrequency"); protocols.md §(a): use one or the other, never both.
 */
export type UpdateSchedule =
  /** Every `minutes` minutes (MP-11x 6.6 counts AutoUpdateFrequency in minutes). */
  | { kind: 'frequency'; minutes: number }
  /** Daily at `time` ('hh:mm', 24 h) plus a random delay of up to `randomSeconds` to spread the fleet. */
  | { kind: 'daily'; time: string; randomSeconds: number };

export interface AudioCodesRenderInput {
  /** The profile's ini template, device variables already substituted; text or a parsed document (not modified). */
  template: string | IniDoc;
  /** Scalars set over the template, e.g. from device variables. May not name an APS-owned parameter. */
  params?: Readonly<Record<string, string | number>>;
  /** Where the device fetches this ini (may contain `<MAC>`, which the device replaces). */
  iniFileUrl: string;
  /** URL of the firmware target (.cmp), when the catalog has one for this device. */
  firmwareUrl?: string | null;
  /**
   * URLs of the auxiliary targets that exist. The device fetches an auxiliary file once per URL value
   * (seed 001 §32 "These files are updated only once"), so a URL must change when its file does: pass
   * URLs that carry the artifact's version or hash.
   */
  auxUrls?: Readonly<Partial<Record<AuxKind, string>>>;
  schedule: UpdateSchedule;
  /** AUPDCheckIfIniChanged (0 off, 1 CRC of the whole file, 2 per line); the template's value when absent. */
  checkIfIniChanged?: 0 | 1 | 2;
  /** The bytes written: UTF-8 (default) or latin-1, the encoding the template or imported ini came in. */
  encoding?: IniEncoding;
}

export type AudioCodesRenderErrorCode = 'bad-schedule' | 'bad-url' | 'owned-param' | 'bad-option';

/** A render input APS itself got wrong (config or catalog), as opposed to IniError for template faults. */
export class AudioCodesRenderError extends ApsError {
  readonly reason: AudioCodesRenderErrorCode;
  constructor(reason: AudioCodesRenderErrorCode, message: string) {
    super('render_failed', `audiocodes render: ${message}`);
    this.name = 'AudioCodesRenderError';
    this.reason = reason;
  }
}

const SCHEDULE_PARAMS = ['AutoUpdateFrequency', 'AutoUpdatePredefinedTime', 'AutoUpdatePredefinedRandomTime'];
const OWNED = new Set(
  ['IniFileURL', 'CmpFileURL', 'AutoUpdateCmpFile', ...Object.values(AUX_URL_PARAMS), ...SCHEDULE_PARAMS].map((n) => n.toLowerCase()),
);

function checkUrl(what: string, url: string): string {
  if (url.trim() === '' || url !== url.trim()) throw new AudioCodesRenderError('bad-url', `${what} is empty or padded`);
  return url;
}

function applySchedule(doc: IniDoc, s: UpdateSchedule): void {
  for (const name of SCHEDULE_PARAMS) deleteParam(doc, name);
  if (s.kind === 'frequency') {
    // The daily time is left out: its "off" value is not documented, so none is invented here.
    if (!Number.isInteger(s.minutes) || s.minutes < 1) {
      throw new AudioCodesRenderError('bad-schedule', 'frequency must be a whole number of minutes >= 1');
    }
    setParam(doc, 'AutoUpdateFrequency', s.minutes);
    return;
  }
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(s.time)) {
    throw new AudioCodesRenderError('bad-schedule', "daily time must be 'hh:mm' (00:00-23:59)");
  }
  if (!Number.isInteger(s.randomSeconds) || s.randomSeconds < 0) {
    throw new AudioCodesRenderError('bad-schedule', 'randomSeconds must be a whole number >= 0');
  }
  // The periodic check is switched off explicitly (0, its default, disables it) rather than left out, for
  // the same reason as AutoUpdateCmpFile = 0: with SetDefaultOnINIFileProcess = 0 an earlier frequency
  // would stay in force next to the daily time. 'hh:mm' in single quotes: protocols.md §(a).
  setParam(doc, 'AutoUpdateFrequency', 0);
  setParam(doc, 'AutoUpdatePredefinedTime', s.time);
  setParam(doc, 'AutoUpdatePredefinedRandomTime', s.randomSeconds);
}

/** The per-device ini as bytes (UTF-8 or latin-1, CR LF, final newline). Throws IniError or AudioCodesRenderError. */
export function renderAudioCodesIni(input: AudioCodesRenderInput): Buffer {
  const doc = typeof input.template === 'string' ? parseIni(input.template) : cloneDoc(input.template);

  // Object key order is insertion order, which the caller may not control: sort for stable bytes.
  const crcOwned = input.checkIfIniChanged !== undefined;
  for (const name of Object.keys(input.params ?? {}).sort()) {
    const key = name.toLowerCase();
    if (OWNED.has(key) || (crcOwned && key === 'aupdcheckifinichanged')) {
      throw new AudioCodesRenderError('owned-param', `${name} is set by APS, not by params`);
    }
    setParam(doc, name, input.params![name]!);
  }

  setParam(doc, 'IniFileURL', checkUrl('iniFileUrl', input.iniFileUrl));

  // seed 001 §32 "Software file (cmp)"; protocols.md §(a): CmpFileURL is applied only with AutoUpdateCmpFile = 1.
  // Without a target the switch is written as 0 rather than left out, because a template with
  // SetDefaultOnINIFileProcess = 0 would otherwise leave an earlier 1 in force.
  if (input.firmwareUrl) {
    setParam(doc, 'CmpFileURL', checkUrl('firmwareUrl', input.firmwareUrl));
    setParam(doc, 'AutoUpdateCmpFile', 1);
  } else {
    deleteParam(doc, 'CmpFileURL');
    setParam(doc, 'AutoUpdateCmpFile', 0);
  }

  for (const kind of Object.keys(AUX_URL_PARAMS).sort() as AuxKind[]) {
    const url = input.auxUrls?.[kind];
    if (url) setParam(doc, AUX_URL_PARAMS[kind], checkUrl(`auxUrls.${kind}`, url));
    else deleteParam(doc, AUX_URL_PARAMS[kind]);
  }

  applySchedule(doc, input.schedule);
  if (crcOwned) {
    if (![0, 1, 2].includes(input.checkIfIniChanged!)) {
      throw new AudioCodesRenderError('bad-option', 'checkIfIniChanged must be 0, 1 or 2');
    }
    setParam(doc, 'AUPDCheckIfIniChanged', input.checkIfIniChanged!);
  }

  return encodeIni(writeIni(doc), input.encoding ?? 'utf8');
}
