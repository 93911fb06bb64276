// An Avaya deskphone booting against any file server, following seed 004 (16CC chapter 7 "General
// Download Process"): fetch the family upgrade script, interpret it (script.ts) with the phone's own
// $MODEL4/$GROUP/$MACADDR, download the binary named by APPNAME only when it differs from the running one
// (and each companion *_APPNAME likewise), then follow the script's GETs: 46xxsettings.txt, $MACADDR.txt.
// The running image names are kept in <state>/<mac>/phone.json between boots.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simRequest, writeSimulatorFile, type SimResponse } from '../../src/adapter-api.ts';
import { runScript } from './script.ts';

export interface PhoneOptions {
  /** APS base URL (http://host:8080) or the file server folder itself (…/avaya). */
  server: string;
  model: string;
  /** 12 hex digits, any case or separators. */
  mac: string;
  group?: number;
  /** The image the phone runs when it has no state yet. */
  running?: string;
  /** Where the phone keeps what it runs (and the binaries it downloaded). */
  stateDir?: string;
  /** The upgrade script to ask for (default: by model family). */
  script?: string;
  /** Basic credentials sent with the phone's own file (user name: --user, else the MAC). */
  user?: string;
  password?: string;
  insecure?: boolean;
  ca?: string;
}

export interface BootResult {
  ok: boolean;
  error?: string;
  mac: string;
  model: string;
  script: string;
  /** What APPNAME the script gave, or null. */
  appname: string | null;
  /** Binaries downloaded during this boot (APPNAME and companions). */
  downloaded: string[];
  /** The image running after the boot. */
  running: string | null;
  /** Every parameter the chain set, with its last value. */
  settings: Record<string, string>;
  requests: Array<{ file: string; status: number; bytes: number }>;
  bytes: number;
}

interface PhoneState {
  running: string | null;
  companions: Record<string, string>;
}

/** The upgrade script a model requests (protocols.md §(b) "File chain", step 1). */
export function scriptFor(model: string): string {
  const m = model.toUpperCase();
  if (/^[JK]\d/.test(m)) return 'J100Supgrade.txt';
  if (/^96(08|11|21|41)/.test(m)) return '96x1Supgrade.txt'; // 96x1: 9608, 9611, 9621, 9641 (9610… are 96x0)
  if (/^96/.test(m)) return '96xxupgrade.txt';
  if (/^46/.test(m)) return '46xxupgrade.scr';
  return '16xxupgrade.txt';
}

export function folderUrl(server: string): string {
  const s = server.replace(/\/+$/, '');
  return /\/avaya$/.test(s) ? `${s}/` : `${s}/avaya/`;
}

function loadState(dir: string | undefined, running: string | undefined): PhoneState {
  const initial: PhoneState = { running: running ?? null, companions: {} };
  if (!dir) return initial;
  try {
    const s = JSON.parse(readFileSync(join(dir, 'phone.json'), 'utf8')) as PhoneState;
    return { running: s.running ?? initial.running, companions: s.companions ?? {} };
  } catch {
    return initial;
  }
}

// Through the core's atomic write: a temp name of its own per write, so two boots of one phone in one
// process cannot write the same temp file (a left one is named like every APS temp file, so a data-folder sweep
// removes it when the state folder is inside a data folder).
function saveState(dir: string | undefined, s: PhoneState): void {
  if (dir) writeSimulatorFile(join(dir, 'phone.json'), JSON.stringify(s));
}

/** The release a binary name carries ("FW_S_J179_R4_1_1_0_7.bin" → "R4_1_1_0_7"), for the User-Agent. */
function releaseOf(name: string | null): string {
  const m = name ? /R?(\d+(?:_\d+)+)/.exec(name) : null;
  return m ? `R${m[1]}` : 'R0_0_0';
}

export async function bootPhone(o: PhoneOptions): Promise<BootResult> {
  const mac = o.mac.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  const base = folderUrl(o.server);
  const script = o.script ?? scriptFor(o.model);
  const dir = o.stateDir ? join(o.stateDir, mac) : undefined;
  if (dir) mkdirSync(dir, { recursive: true });
  const state = loadState(dir, o.running);
  const result: BootResult = {
    ok: true,
    mac,
    model: o.model,
    script,
    appname: null,
    downloaded: [],
    running: state.running,
    settings: {},
    requests: [],
    bytes: 0,
  };
  const userAgent = (): string => `AVAYA/${script.replace(/upgrade\..*$/i, '')}-${releaseOf(state.running)} ${o.model}`;
  const get = async (file: string, saveTo?: string): Promise<SimResponse> => {
    const own = file.toLowerCase() === `${mac}.txt`;
    const headers: Record<string, string> = { 'User-Agent': userAgent() };
    if (own && o.password !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${o.user ?? mac}:${o.password}`).toString('base64')}`;
    }
    const r = await simRequest({ url: base + encodeURIComponent(file), headers, insecure: o.insecure, ca: o.ca, saveTo });
    result.requests.push({ file, status: r.status, bytes: r.size });
    result.bytes += r.size;
    return r;
  };

  // Downloads one binary when its name differs from what the phone has; true when it has it afterwards.
  const fetchBinary = async (name: string, have: string | null): Promise<boolean> => {
    if (name === have) return true;
    const r = await get(name, dir ? join(dir, name.replace(/[/\\]/g, '_')) : undefined);
    if (r.status !== 200) return false;
    result.downloaded.push(name);
    return true;
  };

  let checked = false;
  const checkBinaries = async (settings: Readonly<Record<string, string>>): Promise<void> => {
    if (checked) return;
    checked = true;
    result.appname = settings.APPNAME ?? null;
    for (const [param, name] of Object.entries(settings)) {
      if (param === 'APPNAME' || !param.endsWith('_APPNAME') || param === 'BACKUP_APPNAME' || !name) continue;
      if (await fetchBinary(name, state.companions[param] ?? null)) state.companions[param] = name;
    }
    if (result.appname && (await fetchBinary(result.appname, state.running))) state.running = result.appname;
    else if (result.appname) result.error = `binary ${result.appname} could not be downloaded`;
    saveState(dir, state);
  };

  try {
    const first = await get(script);
    if (first.status !== 200) throw new Error(`${script}: HTTP ${first.status}`);
    const run = await runScript(first.body.toString('utf8'), {
      phone: {
        MODEL4: o.model.slice(0, 4),
        MODEL: o.model,
        GROUP: String(o.group ?? 0),
        MACADDR: mac,
        SIG_IN_USE: 'SIP',
        ...(state.running ? { APPNAME: state.running } : {}),
      },
      load: async (file, settings) => {
        // The phone checks its binary once the script has named it, before reading the settings.
        await checkBinaries(settings);
        const r = await get(file);
        return r.status === 200 ? r.body.toString('utf8') : null;
      },
    });
    await checkBinaries(run.settings);
    result.settings = run.settings;
    if (run.stopped) result.error = run.stopped;
  } catch (e) {
    result.error = (e as Error).message;
  }
  result.running = state.running;
  result.ok = result.error === undefined;
  return result;
}
