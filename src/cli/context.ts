import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { loadConfig, type ApsConfig, type ConfigInput } from '../config.ts';
import { openCore, type Core } from '../core.ts';
import { createLogger, type Logger } from '../log.ts';

export interface GlobalOptions {
  data?: string;
  profiles?: string;
  config?: string;
  json?: boolean;
}

/** Config for a command: defaults, aps.yaml, APS_* env, then the global flags. */
export function commandConfig(cmd: Command, extra: ConfigInput = {}): ApsConfig {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({
    file: g.config,
    overrides: { ...extra, dataDir: g.data ?? extra.dataDir, profilesDir: g.profiles ?? extra.profilesDir },
  });
}

/** Opens the same data folder the server uses; the server sees these writes without a restart. */
export async function withCore<T>(cmd: Command, adapters: readonly Adapter[], fn: (core: Core) => T | Promise<T>): Promise<T> {
  const config = commandConfig(cmd);
  const core = openCore(config, adapters, cliLogger(config.logLevel));
  try {
    return await fn(core);
  } finally {
    core.close();
  }
}

export function cliLogger(level: string): Logger {
  // Commands print their results on stdout (`--json` output stays parseable); the log goes to stderr as
  // readable lines and stays quiet unless asked. APS_LOG_FORMAT=json keeps pino's JSON lines (on stderr).
  const json = process.env.APS_LOG_FORMAT === 'json';
  return createLogger(process.env.APS_LOG_LEVEL ?? (level === 'info' ? 'warn' : level), {
    write: (line: string): void => void process.stderr.write(json ? line : readableLogLine(line)),
  });
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const NOT_SHOWN = new Set(['level', 'time', 'app', 'msg', 'pid', 'hostname']);

/**
 * One pino JSON line as an operator reads it on a terminal: `aps: warn: message (key=value, …)`. An error's
 * stack is printed only with APS_DEBUG=1, as for the CLI's own errors.
 */
export function readableLogLine(line: string, showStack = !!process.env.APS_DEBUG): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  let stack = '';
  const fields = Object.entries(o)
    .filter(([k]) => !NOT_SHOWN.has(k))
    .map(([k, v]) => {
      if (v && typeof v === 'object' && 'message' in v) {
        const e = v as { message: unknown; stack?: unknown };
        if (showStack && typeof e.stack === 'string') stack = `\n${e.stack}`;
        v = e.message;
      }
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    });
  const level = LEVEL_NAMES[Number(o.level)] ?? String(o.level);
  return `aps: ${level}: ${typeof o.msg === 'string' ? o.msg : ''}${fields.length ? ` (${fields.join(', ')})` : ''}${stack}\n`;
}

/** Prints rows as an aligned text table. */
/** A table cell: empty for null/undefined; a nested object as JSON rather than "[object Object]". */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean | bigint);
}

export function printTable(rows: Array<Record<string, unknown>>, columns: string[]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  console.log(
    columns
      .map((c, i) => c.toUpperCase().padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  for (const row of cells)
    console.log(
      row
        .map((v, i) => v.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `KEY=VALUE` pairs into a record; `KEY=` (empty) becomes null, which removes the key. */
export function keyValues(pairs: string[] | undefined, what: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const p of pairs ?? []) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`${what} must be KEY=VALUE, not "${p}"`);
    const v = p.slice(i + 1);
    out[p.slice(0, i)] = v === '' ? null : v;
  }
  return out;
}
