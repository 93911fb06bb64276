// The innovaphone update script (seed 003 "Reference:Update Server", protocols.md §(c)): plain text, one
// command per line, executed by UP1 line by line. Pure: state in, bytes out; no clock, no I/O.
//
// Order (issue 10): times, boot, prot, bmc, cfg, scfg, check. `check` goes last because UP1 stores its
// serial (UPDATE/CHECK) only after every command before it ran (seed "Check command"); the official
// server does the same ("mod cmd UP1 check ser <md5>").
import { isIP } from 'node:net';
import { ApsError } from '../../src/adapter-api.ts';

/** Seed "Check command" (ireset, reset, iresetn, resetn, ser), "Boot command" (reboot, ireboot), "SCFG command" (no-op). */
export const FINAL_COMMANDS = ['ireset', 'reset', 'iresetn', 'resetn', 'reboot', 'ireboot', 'ser', 'no-op'] as const;
export type FinalCommand = (typeof FINAL_COMMANDS)[number];

/** A download command (boot, prot, bmc, cfg): the device compares `serial` with its UPDATE/<CMD> variable. */
export interface LoadCommand {
  url: string;
  final: FinalCommand;
  serial: string;
}

export interface ScriptInput {
  /** `mod cmd UP1 times`: allowed hours (0..23) and minutes after boot with no command run. */
  times?: { allow?: readonly number[]; initialMinutes?: number };
  boot?: LoadCommand;
  prot?: LoadCommand;
  /** DECT radio code (seed "Bmc command"), DECT products only. */
  bmc?: LoadCommand;
  cfg?: LoadCommand;
  /** Backup upload by HTTP PUT; `forceHours` repeats it even when the save serial is unchanged. */
  scfg?: LoadCommand & { forceHours?: number };
  /** Last line; omitted only for a script rendered to compute its own serial. */
  check?: { final: FinalCommand; serial: string };
  /** IP72 (WLAN phone): power save off around firmware and boot code downloads (seed "Special WiFi (WLAN) IP72 commands"). */
  wlan?: boolean;
}

const TOKEN = /^[\x21-\x7e]+$/;

function token(what: string, value: string): string {
  // One command per line, space separated: a value with a space, a control character or a line break
  // would change the command (or add one). Refused rather than escaped: the device has no escaping.
  if (!TOKEN.test(value))
    throw new ApsError('bad_request', `innovaphone script: ${what} ${JSON.stringify(value)} must be printable ASCII without spaces`);
  return value;
}

function final(what: string, f: string): FinalCommand {
  if (!(FINAL_COMMANDS as readonly string[]).includes(f)) {
    throw new ApsError('bad_request', `innovaphone script: ${what} final command "${f}" is not one of ${FINAL_COMMANDS.join(', ')}`);
  }
  return f as FinalCommand;
}

/**
 * Seed "Configuration of the Update-Server": innovaphone URLs "do not support host names", so every URL
 * written for a device must name an IP address. Throws naming what the URL is for.
 */
export function assertIpUrl(what: string, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ApsError('bad_request', `innovaphone script: ${what} URL ${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ApsError('bad_request', `innovaphone script: ${what} URL must be http or https`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0)
    throw new ApsError('bad_request', `innovaphone script: ${what} URL names the host "${host}"; innovaphone devices need an IP address`);
  return token(`${what} URL`, url);
}

function load(cmd: 'boot' | 'prot' | 'bmc' | 'cfg', c: LoadCommand): string {
  return `mod cmd UP0 ${cmd} ${assertIpUrl(cmd, c.url)} ${final(cmd, c.final)} ${token(`${cmd} serial`, c.serial)}`;
}

function times(t: NonNullable<ScriptInput['times']>): string | undefined {
  const parts: string[] = [];
  if (t.allow !== undefined && t.allow.length > 0) {
    for (const h of t.allow) {
      if (!Number.isInteger(h) || h < 0 || h > 23) throw new ApsError('bad_request', `innovaphone script: allowed hour ${h} is not 0..23`);
    }
    parts.push(`/allow ${[...new Set(t.allow)].join(',')}`);
  }
  if (t.initialMinutes !== undefined) {
    if (!Number.isInteger(t.initialMinutes) || t.initialMinutes < 0)
      throw new ApsError('bad_request', `innovaphone script: /initial ${t.initialMinutes} is not a whole number of minutes`);
    parts.push(`/initial ${t.initialMinutes}`);
  }
  return parts.length ? `mod cmd UP1 times ${parts.join(' ')}` : undefined;
}

/** The update script's lines, in the order the device must run them. */
export function scriptLines(input: ScriptInput): string[] {
  const lines: string[] = [];
  const t = input.times && times(input.times);
  if (t) lines.push(t);
  // Seed: power save is switched off around each firmware or boot code download on an IP72; when the
  // final command resets the phone, the deactivate line never runs, which the seed says is harmless.
  const wrapped = (line: string): string[] =>
    input.wlan ? ['mod cmd WLANMGR0 activate-pwr', line, 'mod cmd WLANMGR0 deactivate-pwr'] : [line];
  if (input.boot) lines.push(...wrapped(load('boot', input.boot)));
  if (input.prot) lines.push(...wrapped(load('prot', input.prot)));
  if (input.bmc) lines.push(load('bmc', input.bmc));
  if (input.cfg) lines.push(load('cfg', input.cfg));
  if (input.scfg) {
    const s = input.scfg;
    let line = `mod cmd UP0 scfg ${assertIpUrl('scfg', s.url)} ${final('scfg', s.final)} ${token('scfg serial', s.serial)}`;
    if (s.forceHours !== undefined) {
      if (!Number.isInteger(s.forceHours) || s.forceHours < 1)
        throw new ApsError('bad_request', `innovaphone script: /force ${s.forceHours} is not a whole number of hours`);
      line += ` /force ${s.forceHours}`;
    }
    lines.push(line);
  }
  if (input.check) lines.push(`mod cmd UP1 check ${final('check', input.check.final)} ${token('check serial', input.check.serial)}`);
  return lines;
}

/** The script as the device receives it: CRLF after every line (text the device reads like a telnet session). */
export function renderScript(input: ScriptInput): Buffer {
  const lines = scriptLines(input);
  return Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'ascii');
}
