// A simulated MP-11x / MP-124 following seed 001 §32 and protocols.md §(a):
// - a check runs at start-up, periodically, and on a SIP NOTIFY check-sync (startSipListener, src/sim/sip-listener.ts);
// - ini and cmp: If-Modified-Since with the time of the last download from that URL; 304 skips;
// - the ini is discarded when its CRC equals the last applied one (AUPDCheckIfIniChanged);
// - the cmp only when AutoUpdateCmpFile = 1, installed only when its version is later than the running one;
// - auxiliary files (CptFileURL, …) are fetched once per URL value;
// - the gateway resets once, after all downloads, when anything was applied or installed.
import { crc32 } from 'node:zlib';
import { compareVersions } from '../../src/adapter-api.ts';
import { getParam, parseIni, valueText, type IniDoc } from './ini-doc.ts';
import { decodeIni } from './ini-encoding.ts';
import { AUX_URL_PARAMS, type AuxKind } from './render.ts';
import { fetchUrl, type FetchOptions } from './sim-fetch.ts';

export interface AudioCodesSimOptions {
  /** IniFileURL as configured at first boot; `<MAC>` is replaced by the MAC. */
  iniUrl: string;
  /** 12 hex digits. */
  mac: string;
  product?: string;
  /** The firmware running at first boot. */
  firmware?: string;
  /** Initial AUPDDigestUsername / AUPDDigestPassword (an applied ini may change them). */
  digest?: { username: string; password: string };
  insecure?: boolean;
  ca?: string;
}

export interface CheckResult {
  ok: boolean;
  /** What happened to the ini: downloaded and applied, 304, same CRC, or failed. */
  ini: 'applied' | 'not-modified' | 'same-crc' | 'failed';
  cmp: 'installed' | 'not-modified' | 'not-newer' | 'off' | 'failed';
  /** Auxiliary kinds fetched in this check (their URL was new). */
  aux: AuxKind[];
  /** Every 200 in this check, in order (URL without credentials). */
  downloads: string[];
  reset: boolean;
  errors: string[];
}

/** The cmp's version: the version-bearing file name APS serves (`…_6.60A.360.002.cmp`), else unknown. */
export function cmpVersionOf(url: string): string | null {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  return /(\d+\.\d+[A-Za-z]?(?:\.\d+)+)/.exec(name)?.[1] ?? null;
}

const strip = (url: string): string => url.replace(/\/\/[^/@]*@/, '//');

export class AudioCodesSimulator {
  readonly o: AudioCodesSimOptions;
  firmware: string;
  /** The applied configuration (last ini that passed the checks). */
  config: IniDoc | null = null;
  resets = 0;
  checks = 0;
  /** URL → time of the last download from it (sent back as If-Modified-Since). */
  private readonly lastDownload = new Map<string, string>();
  /** Aux kind → the URL it was last fetched from (fetched once per URL). */
  readonly auxFetched = new Map<AuxKind, string>();
  private lastCrc: number | null = null;
  private running: Promise<CheckResult> | null = null;

  constructor(o: AudioCodesSimOptions) {
    this.o = o;
    this.firmware = o.firmware ?? '6.60A.349.001';
  }

  private param(name: string): string | undefined {
    const v = this.config && getParam(this.config, name);
    return v ? valueText(v) : undefined;
  }

  /** IniFileURL from the applied ini, else the one configured at boot; `<MAC>` replaced. */
  iniUrl(): string {
    return (this.param('IniFileURL') ?? this.o.iniUrl).replace(/<MAC>/gi, this.o.mac.toUpperCase());
  }

  private fetchOptions(url: string, conditional: boolean): FetchOptions {
    const user = this.param('AUPDDigestUsername');
    const digest = user ? { username: user, password: this.param('AUPDDigestPassword') ?? '' } : this.o.digest;
    return {
      userAgent: `Mozilla/4.0 (compatible; AudioCodes; ${this.o.product ?? 'MP-124'};${this.firmware};${this.o.mac.toUpperCase()};${this.param('INIFileVersion') ?? ''})`,
      digest,
      since: conditional ? this.lastDownload.get(url) : undefined,
      insecure: this.o.insecure,
      ca: this.o.ca,
    };
  }

  /** One Automatic Update check. Concurrent triggers (timer + NOTIFY) share one run. */
  check(): Promise<CheckResult> {
    this.running ??= this.runCheck().finally(() => (this.running = null));
    return this.running;
  }

  private async runCheck(): Promise<CheckResult> {
    this.checks++;
    const r: CheckResult = { ok: true, ini: 'not-modified', cmp: 'off', aux: [], downloads: [], reset: false, errors: [] };
    const fail = (what: string, e: string): void => {
      r.ok = false;
      r.errors.push(`${what}: ${e}`);
    };

    // 1. The ini (recurring, If-Modified-Since).
    const iniUrl = this.iniUrl();
    const ini = await fetchUrl(iniUrl, this.fetchOptions(iniUrl, true));
    let pending: IniDoc | null = null;
    if (ini.status === 200 && 'body' in ini) {
      this.lastDownload.set(iniUrl, ini.at);
      r.downloads.push(strip(iniUrl));
      const crc = crc32(ini.body);
      try {
        const doc = parseIni(decodeIni(ini.body).text);
        const mode = getParam(doc, 'AUPDCheckIfIniChanged');
        if (mode && valueText(mode) !== '0' && crc === this.lastCrc) r.ini = 'same-crc';
        else {
          pending = doc;
          this.lastCrc = crc;
          r.ini = 'applied';
        }
      } catch (e) {
        r.ini = 'failed';
        fail('ini', (e as Error).message);
      }
    } else if (ini.status !== 304) {
      r.ini = 'failed';
      fail('ini', 'error' in ini ? ini.error : String(ini.status));
    }
    // The new configuration is applied before the firmware (protocols.md §(a) step 5).
    if (pending) this.config = pending;

    // 2. The cmp, only with AutoUpdateCmpFile = 1 (recurring, If-Modified-Since; then the version test).
    const cmpUrl = this.param('CmpFileURL');
    let newFirmware: string | null = null;
    if (cmpUrl && this.param('AutoUpdateCmpFile') === '1') {
      const res = await fetchUrl(cmpUrl, this.fetchOptions(cmpUrl, true));
      if (res.status === 200 && 'body' in res) {
        this.lastDownload.set(cmpUrl, res.at);
        r.downloads.push(strip(cmpUrl));
        const v = cmpVersionOf(cmpUrl);
        if (v && compareVersions(v, this.firmware) > 0) {
          newFirmware = v;
          r.cmp = 'installed';
        } else r.cmp = 'not-newer';
      } else if (res.status === 304) r.cmp = 'not-modified';
      else {
        r.cmp = 'failed';
        fail('cmp', 'error' in res ? res.error : String(res.status));
      }
    }

    // 3. Auxiliary files: once per URL value.
    for (const [kind, param] of Object.entries(AUX_URL_PARAMS) as Array<[AuxKind, string]>) {
      const url = this.param(param);
      if (!url || this.auxFetched.get(kind) === url) continue;
      const res = await fetchUrl(url, this.fetchOptions(url, false));
      if (res.status === 200 && 'body' in res) {
        this.auxFetched.set(kind, url);
        r.downloads.push(strip(url));
        r.aux.push(kind);
      } else fail(`aux ${kind}`, 'error' in res ? res.error : String(res.status));
    }

    // 4. One reset, after every download.
    if (r.ini === 'applied' || newFirmware || r.aux.length > 0) {
      if (newFirmware) this.firmware = newFirmware;
      this.resets++;
      r.reset = true;
    }
    return r;
  }
}
