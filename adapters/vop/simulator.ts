import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseStringPromise } from 'xml2js';
import { writeSimulatorFile as writeFileAtomic, simRequest } from '../../src/adapter-api.ts';
import { requestUrlTemplate, substituteUrl, type RequestType } from './render.ts';

// A VOP following seed 000's client algorithm: local info file or credentials; info request; bootstrap
// if the version differs; firmware if the serial is greater; config if the serial is greater; each
// checked against the MD5 of the info file; the info file saved only when every step succeeded.

export interface VopSimOptions {
  /** The info URL template (with $t $u $p $v), or a server base URL. */
  server: string;
  user: string;
  password: string;
  /** This VOP's folder: info.xml and the installed bootstrap, firmware and config. */
  stateDir: string;
  insecure?: boolean;
  ca?: string;
}

export interface ParsedInfo {
  bootstrap?: { version: string; url: string; md5?: string };
  firmware?: { serial: number; url: string; md5?: string };
  config?: { serial: number; url: string; md5?: string };
}

export interface CycleResult {
  ok: boolean;
  /** What was downloaded and installed in this cycle, in order. */
  installed: Array<'bootstrap' | 'firmware' | 'config'>;
  bytes: number;
  error?: string;
  /** Things the VOP worked around, e.g. an unreadable local info file (treated as absent). */
  warnings?: string[];
  info?: ParsedInfo;
}

const text = (v: unknown): string | undefined => (Array.isArray(v) ? text(v[0]) : typeof v === 'string' ? v.trim() : undefined);

/** Reads an information file the way the VOP does: a section without version/serial or url is ignored. */
export async function parseInfo(xml: string): Promise<ParsedInfo> {
  const doc = (await parseStringPromise(xml, { explicitArray: true })) as { info?: Record<string, Array<Record<string, unknown>>> };
  if (!doc?.info || typeof doc.info !== 'object') throw new Error('not an information file: no <info> root');
  const sec = (name: string): Record<string, unknown> | undefined => doc.info![name]?.[0];
  const out: ParsedInfo = {};
  const b = sec('bootstrap');
  if (b && text(b.version) && text(b.url)) out.bootstrap = { version: text(b.version)!, url: text(b.url)!, md5: text(b.md5) };
  for (const k of ['firmware', 'config'] as const) {
    const s = sec(k);
    const serial = Number(text(s?.serial));
    if (s && text(s.url) && Number.isFinite(serial)) out[k] = { serial, url: text(s.url)!, md5: text(s.md5) };
  }
  return out;
}

/**
 * The VOP's local information file, or {} when there is none. A corrupt one (a torn write, a disk error,
 * an edit) is treated as absent, with a warning: the next check is a full one and saves a good file,
 * rather than every check failing on it forever.
 */
async function readLocalInfo(infoPath: string, warnings: string[]): Promise<ParsedInfo> {
  if (!existsSync(infoPath)) return {};
  try {
    return await parseInfo(readFileSync(infoPath, 'utf8'));
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    warnings.push(`${infoPath} is not a valid information file (${reason}); treated as absent: full check`);
    return {};
  }
}

function infoTemplate(server: string): string {
  return server.includes('$') ? server : requestUrlTemplate(server.replace(/\/+$/, ''));
}

/** One update check, as at start-up or every 6 hours. Never throws: failures come back in the result. */
export async function runVopCycle(o: VopSimOptions): Promise<CycleResult> {
  mkdirSync(o.stateDir, { recursive: true });
  const infoPath = join(o.stateDir, 'info.xml');
  const result: CycleResult = { ok: false, installed: [], bytes: 0 };
  const staged: Array<{ name: 'bootstrap' | 'firmware' | 'config'; tmp: string }> = [];
  try {
    const warnings: string[] = [];
    const local = await readLocalInfo(infoPath, warnings);
    if (warnings.length) result.warnings = warnings;
    const vars = { u: o.user, p: o.password, v: local.bootstrap?.version ?? '' };
    const get = (url: string, t: RequestType, saveTo?: string) =>
      simRequest({ url: substituteUrl(url, { ...vars, t }), insecure: o.insecure, ca: o.ca, saveTo });
    const infoRes = await get(infoTemplate(o.server), 'i');
    if (infoRes.status !== 200) throw new Error(`info request answered ${infoRes.status}`);
    const remote = await parseInfo(infoRes.body.toString('utf8'));
    result.info = remote;

    const steps: Array<{ name: 'bootstrap' | 'firmware' | 'config'; t: RequestType; wanted: boolean; url?: string; md5?: string }> = [
      {
        name: 'bootstrap',
        t: 'b',
        wanted: !!remote.bootstrap && remote.bootstrap.version !== local.bootstrap?.version,
        url: remote.bootstrap?.url,
        md5: remote.bootstrap?.md5,
      },
      {
        name: 'firmware',
        t: 'f',
        wanted: !!remote.firmware && remote.firmware.serial > (local.firmware?.serial ?? -1),
        url: remote.firmware?.url,
        md5: remote.firmware?.md5,
      },
      {
        name: 'config',
        t: 'c',
        wanted: !!remote.config && remote.config.serial > (local.config?.serial ?? -1),
        url: remote.config?.url,
        md5: remote.config?.md5,
      },
    ];
    for (const s of steps) {
      if (!s.wanted) continue;
      const tmp = join(o.stateDir, `.${s.name}.download`);
      const r = await get(s.url!, s.t, tmp);
      if (r.status !== 200) throw new Error(`${s.name} request answered ${r.status}`);
      staged.push({ name: s.name, tmp });
      result.bytes += r.size;
      if (s.md5 && s.md5.toLowerCase() !== r.md5) throw new Error(`${s.name} MD5 mismatch: expected ${s.md5}, got ${r.md5}`);
    }
    // Every step succeeded: install, then save the information file (the VOP's record of what it runs).
    for (const s of staged) {
      renameSync(s.tmp, join(o.stateDir, s.name));
      result.installed.push(s.name);
    }
    staged.length = 0;
    writeFileAtomic(infoPath, infoRes.body);
    result.ok = true;
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    for (const s of staged) rmSync(s.tmp, { force: true });
  }
  return result;
}
