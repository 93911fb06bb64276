// A simulated innovaphone device running one update poll as UP1/UP0 do (seed 003, protocols.md §(c)):
// it appends the standard name and the standard query arguments to the update URL, replaces the
// placeholders, and executes the script line by line and synchronously. It keeps UPDATE/CHECK, /PROT,
// /BOOT, /BMC, /CFG, /SCFG and the rolling backup index across runs in its state folder, honours
// `times /allow` and `/initial` (its clock hour and uptime can be set, so tests need not wait), loads
// firmware only when the build serial differs (from the running build when UPDATE/PROT is empty),
// PUTs its config chunked for scfg, and stops when `check` matches.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeMac, writeSimulatorFile } from '../../src/adapter-api.ts';
import { simGet, simPutChunked, type SimHttp } from './simulator-http.ts';

export interface SimDeviceState {
  /** The device's UPDATE/… variables (seed: empty on a factory-fresh device). */
  vars: Record<string, string>;
  /** What runs now (changes at a reset after a download). */
  running: { firmware: string; boot: string; bmc: string };
  /** The configuration lines loaded by cfg (the device's own before any). */
  config: string[];
  /** When the device last booted (ms since the epoch). */
  bootedAt: number;
}

export interface SimOptions extends SimHttp {
  /** The update URL as configured on the device (placeholders #m #h #t #i left in, ending in `/`). */
  url: string;
  product: string;
  mac: string;
  stateDir: string;
  /** The device clock's hour (0..23); default: this machine's local hour. */
  hour?: number;
  /** Minutes since boot; default: since the last (simulated) reset. */
  uptimeMinutes?: number;
  /** The device's own address (#i); default 127.0.0.1. */
  ip?: string;
  /** BMC file name for a URL ending in `/` (DECT products). */
  bmcName?: string;
  /** The build the device runs before any download. */
  initialFirmware?: string;
  now?: () => Date;
}

export type StopReason = 'end' | 'check' | 'times' | 'initial' | 'no-time' | 'reset' | 'error';

export interface SimResult {
  ok: boolean;
  mac: string;
  /** The script request's HTTP status. */
  status: number;
  stoppedBy: StopReason;
  /** Every script line run, in order. */
  executed: string[];
  loaded: { boot?: string; firmware?: string; bmc?: string; config?: string };
  backup?: { url: string; status: number; bytes: number };
  /** The final command that reset the device, if one did. */
  reset?: string;
  bytes: number;
  error?: string;
}

const STATE_FILE = 'state.json';

export function loadState(dir: string, o: Pick<SimOptions, 'initialFirmware' | 'product'>, now: Date): SimDeviceState {
  try {
    return JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as SimDeviceState;
  } catch {
    // A factory-fresh device that booted a day ago.
    return {
      vars: {},
      running: { firmware: o.initialFirmware ?? '13r1-000', boot: '100', bmc: '' },
      config: [`config change CMD0 /name ${o.product.toUpperCase()}`],
      bootedAt: now.getTime() - 24 * 3600_000,
    };
  }
}

function saveState(dir: string, s: SimDeviceState): void {
  writeSimulatorFile(join(dir, STATE_FILE), JSON.stringify(s, null, 2));
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** #d as the seed shows it: 20051010-170130. */
export function dateStamp(d: Date): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** 009033030df0 → 00-90-33-03-0d-f0 (the seed's #m form). */
export function dashedMac(mac12: string): string {
  return mac12.match(/../g)!.join('-');
}

interface Placeholders {
  m: string;
  h: string;
  t: string;
  i: string;
  F: string;
  B: string;
  H: string;
  d: string;
}

/** Replaces the seed's placeholders; `#b<n>` takes the next rolling index through `nextIndex`. */
export function substitute(url: string, p: Placeholders, nextIndex?: (n: number) => number): string {
  return url.replace(/#(b\d+|[mhtiFBHd])/g, (all, k: string) => {
    if (k.startsWith('b')) return nextIndex ? String(nextIndex(Number(k.slice(1)))) : all;
    return p[k as keyof Placeholders];
  });
}

function standardQuery(s: SimDeviceState): string {
  const q = new URLSearchParams();
  for (const a of ['PROT', 'BOOT', 'BMC', 'CFG', 'SCFG', 'CHECK', 'CFG-BACKUP-NUM']) {
    q.set(a, s.vars[a] ?? '');
    q.set(`${a}date`, s.vars[`${a}date`] ?? '');
  }
  q.set('ver', s.running.firmware);
  return q.toString();
}

/** What the device uploads for scfg: its config lines, then its update variables (which a diff ignores). */
export function backupText(s: SimDeviceState, updateUrl: string): Buffer {
  const lines = [
    ...s.config,
    `config change UP1 /url ${encodeURIComponent(updateUrl)} /poll 15`,
    ...Object.entries(s.vars)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `vars create UPDATE/${k} /pb ${v}`),
  ];
  return Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'utf8');
}

type Final = { now: boolean; ifNeeded: boolean } | null;

function finalOf(cmd: string): Final {
  switch (cmd) {
    case 'reset':
    case 'reboot':
      return { now: true, ifNeeded: false };
    case 'resetn':
      return { now: true, ifNeeded: true };
    case 'ireset':
    case 'ireboot':
      return { now: false, ifNeeded: false };
    case 'iresetn':
      return { now: false, ifNeeded: true };
    default:
      return null; // ser, no-op
  }
}

/** One poll: fetch the script and run it. The state is saved whatever happens. */
export async function runPoll(o: SimOptions): Promise<SimResult> {
  const now = (o.now ?? (() => new Date()))();
  const mac12 = normalizeMac(o.mac);
  if (!mac12) throw new Error(`--mac ${o.mac} is not a MAC address`);
  const dir = join(o.stateDir, mac12);
  const s = loadState(dir, o, now);
  const product = o.product.toLowerCase();
  const p: Placeholders = {
    m: dashedMac(mac12),
    h: `${o.product.toUpperCase()}-${dashedMac(mac12).slice(9)}`,
    t: o.product.toUpperCase(),
    i: o.ip ?? '127.0.0.1',
    F: s.running.firmware,
    B: s.running.boot,
    H: '1',
    d: dateStamp(now),
  };
  const result: SimResult = { ok: true, mac: p.m, status: 0, stoppedBy: 'end', executed: [], loaded: {}, bytes: 0 };
  let url = substitute(o.url, p);
  if (url.endsWith('/')) url += `update-${product}.htm`;
  url += `${url.includes('?') ? '&' : '?'}${standardQuery(s)}`;
  try {
    const script = await simGet(o, url);
    result.status = script.status;
    if (script.status !== 200) throw new Error(`failed(${script.status})`);
    await execute(o, s, p, script.body.toString('latin1'), now, result);
  } catch (e) {
    result.ok = false;
    result.stoppedBy = 'error';
    result.error = (e as Error).message;
  }
  saveState(dir, s);
  return result;
}

async function execute(o: SimOptions, s: SimDeviceState, p: Placeholders, text: string, now: Date, r: SimResult): Promise<void> {
  const product = o.product.toLowerCase();
  const digits = product.replace(/^[a-z]+/, '');
  const fresh = !s.vars.CHECK;
  const uptime = o.uptimeMinutes ?? (now.getTime() - s.bootedAt) / 60_000;
  const hour = o.hour ?? now.getHours();
  let resetNeeded = false;
  let resetWhenIdle: Final = null;
  let check: { final: string; serial: string } | undefined;
  const reset = (how: string): void => {
    // A reset activates what was downloaded: the running builds become what UPDATE/… says was loaded.
    s.running = { firmware: s.vars.PROT || s.running.firmware, boot: s.vars.BOOT || s.running.boot, bmc: s.vars.BMC || s.running.bmc };
    s.bootedAt = now.getTime();
    r.reset = how;
  };
  /** Runs a final command; true when it reset the device now (the script ends there). */
  const runFinal = (cmd: string): boolean => {
    const f = finalOf(cmd);
    if (!f || (f.ifNeeded && !resetNeeded)) return false;
    if (f.now) {
      reset(cmd);
      return true;
    }
    resetWhenIdle = f;
    return false;
  };
  const download = async (kind: 'PROT' | 'BOOT' | 'BMC' | 'CFG', words: string[], name: string | undefined): Promise<boolean> => {
    const [u, final = 'ser', serial = ''] = words;
    const current =
      s.vars[kind] || (kind === 'PROT' ? s.running.firmware : kind === 'BOOT' ? s.running.boot : kind === 'BMC' ? s.running.bmc : '');
    if (serial !== '' && serial === current) return false; // already there: nothing loaded, no final command
    let target = u!;
    if (target.endsWith('/')) {
      if (!name) throw new Error(`${kind.toLowerCase()}: URL ends in "/" but no standard name is known`);
      target += name;
    }
    const got = await simGet(o, target);
    r.bytes += got.size;
    if (got.status !== 200) throw new Error(`${kind.toLowerCase()} ${target}: failed(${got.status})`);
    if (kind === 'CFG')
      s.config = got.body
        .toString('utf8')
        .split(/\r?\n/)
        .filter((l) => l.trim() !== '');
    s.vars[kind] = serial;
    s.vars[`${kind}date`] = dateStamp(now);
    resetNeeded = true;
    r.loaded[kind === 'PROT' ? 'firmware' : kind === 'BOOT' ? 'boot' : kind === 'BMC' ? 'bmc' : 'config'] = serial;
    return runFinal(final);
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const w = line.split(/\s+/);
    r.executed.push(line);
    const head = w.slice(0, 4).join(' ');
    if (head === 'mod cmd UP1 times') {
      const allowAt = w.indexOf('/allow');
      const initialAt = w.indexOf('/initial');
      const allow = allowAt > 0 ? w[allowAt + 1]!.split(',').map(Number) : undefined;
      const initial = initialAt > 0 ? Number(w[initialAt + 1]) : undefined;
      if (initial !== undefined && uptime < initial) return void (r.stoppedBy = 'initial');
      if (allow && !allow.includes(hour)) {
        // Seed: with /initial set, a factory-fresh device runs the script even outside the allowed hours.
        if (!(initial !== undefined && fresh)) return void (r.stoppedBy = 'times');
      }
    } else if (head === 'mod cmd UP1 check') {
      const [final = 'ser', serial = ''] = w.slice(4);
      if (serial === (s.vars.CHECK ?? '')) return void (r.stoppedBy = 'check');
      check = { final, serial };
    } else if (head === 'mod cmd UP0 prot') {
      if (await download('PROT', w.slice(4), `ip${digits}.bin`)) return void (r.stoppedBy = 'reset');
    } else if (head === 'mod cmd UP0 boot') {
      if (await download('BOOT', w.slice(4), `boot${digits}.bin`)) return void (r.stoppedBy = 'reset');
    } else if (head === 'mod cmd UP0 bmc') {
      if (await download('BMC', w.slice(4), o.bmcName)) return void (r.stoppedBy = 'reset');
    } else if (head === 'mod cmd UP0 cfg') {
      if (await download('CFG', w.slice(4), undefined)) return void (r.stoppedBy = 'reset');
    } else if (head === 'mod cmd UP0 scfg') {
      if (await scfg(o, s, p, w.slice(4), now, r, o.url)) {
        const final = w[5] ?? 'ser';
        if (runFinal(final)) return void (r.stoppedBy = 'reset');
      }
    }
    // Anything else (config …, vars …, WLANMGR0 power commands) runs like a telnet command: recorded only.
  }
  if (check) {
    // Seed "Check command": the serial is stored only when every command ran, then the final command runs.
    s.vars.CHECK = check.serial;
    s.vars.CHECKdate = dateStamp(now);
    if (runFinal(check.final)) return void (r.stoppedBy = 'reset');
  }
  const idle = resetWhenIdle as Final;
  if (idle && (!idle.ifNeeded || resetNeeded)) reset('ireset');
}

/** scfg <url> [<final> <save-serial> [/force <hours>]]: true when it uploaded. */
async function scfg(
  o: SimOptions,
  s: SimDeviceState,
  p: Placeholders,
  words: string[],
  now: Date,
  r: SimResult,
  updateUrl: string,
): Promise<boolean> {
  const [u, , serial] = words;
  const forceAt = words.indexOf('/force');
  const force = forceAt > 0 ? Number(words[forceAt + 1]) : undefined;
  if (serial !== undefined && serial === s.vars.SCFG) {
    const last = Date.parse(s.vars.SCFGtime ?? '');
    if (force === undefined || (!Number.isNaN(last) && now.getTime() - last < force * 3600_000)) return false;
  }
  const url = substitute(u!, p, (n) => {
    const i = Number(s.vars['CFG-BACKUP-NUM'] ?? '0') % n;
    s.vars['CFG-BACKUP-NUM'] = String((i + 1) % n);
    return i;
  });
  const body = backupText(s, updateUrl);
  const status = await simPutChunked(o, url, body);
  r.backup = { url, status, bytes: body.length };
  if (status < 200 || status > 299) throw new Error(`scfg ${url}: failed(${status})`);
  if (serial !== undefined) s.vars.SCFG = serial;
  s.vars.SCFGdate = dateStamp(now);
  s.vars.SCFGtime = now.toISOString();
  return true;
}
