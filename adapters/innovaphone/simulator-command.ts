import { resolve } from 'node:path';
import type { Command } from 'commander';
import { addTlsOptions, normalizeMac, positiveInt, tlsFromOptions } from '../../src/adapter-api.ts';
import { runPoll, type SimOptions, type SimResult } from './simulator.ts';

/** The MAC `i` places after `mac12` (a fleet of consecutive MACs for --count). */
export function nthMac(mac12: string, i: number): string {
  return (BigInt(`0x${mac12}`) + BigInt(i)).toString(16).padStart(12, '0').slice(-12);
}

export interface FleetSummary {
  devices: number;
  failed: number;
  stoppedBy: Record<string, number>;
  loaded: Record<string, number>;
  backups: number;
  bytes: number;
  seconds: number;
  pollsPerSecond: number;
}

/** One poll of N devices (MACs counting up from `mac`), concurrently. */
export async function runFleet(o: SimOptions, count: number): Promise<{ summary: FleetSummary; results: SimResult[] }> {
  const base = normalizeMac(o.mac);
  if (!base) throw new Error(`--mac ${o.mac} is not a MAC address`);
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: count }, (_, i) => runPoll({ ...o, mac: nthMac(base, i) })));
  const seconds = (performance.now() - t0) / 1000;
  const stoppedBy: Record<string, number> = {};
  const loaded: Record<string, number> = {};
  for (const r of results) {
    stoppedBy[r.stoppedBy] = (stoppedBy[r.stoppedBy] ?? 0) + 1;
    for (const k of Object.keys(r.loaded)) loaded[k] = (loaded[k] ?? 0) + 1;
  }
  return {
    results,
    summary: {
      devices: count,
      failed: results.filter((r) => !r.ok).length,
      stoppedBy,
      loaded,
      backups: results.filter((r) => r.backup && r.backup.status >= 200 && r.backup.status < 300).length,
      bytes: results.reduce((n, r) => n + r.bytes, 0),
      seconds: Number(seconds.toFixed(3)),
      pollsPerSecond: Number((count / seconds).toFixed(1)),
    },
  };
}

function intIn(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new Error(`${flag} must be a whole number ${min}..${max}`);
  return n;
}

function describe(r: SimResult): string {
  if (!r.ok) return `${r.mac}: FAILED: ${r.error}`;
  const loaded = Object.entries(r.loaded).map(([k, v]) => `${k} ${v}`);
  const parts = [`${r.mac}: stopped by ${r.stoppedBy}`, `loaded ${loaded.join(', ') || 'nothing'}`];
  if (r.backup) parts.push(`backup ${r.backup.url} → ${r.backup.status}`);
  if (r.reset) parts.push(`reset (${r.reset})`);
  return parts.join('; ');
}

/** `aps simulate innovaphone`: one update poll of a device (or N) as UP1/UP0 run it (seed 003). */
export function innovaphoneSimulatorCommand(cmd: Command): void {
  addTlsOptions(cmd)
    .requiredOption(
      '--url <url>',
      'the update URL as configured on the device (aps device show ID --json: setup.url), placeholders left in',
    )
    .requiredOption('--product <name>', 'product name, e.g. IP1200, IP232, IP811, IP6010, IP72')
    .requiredOption('--mac <mac>', 'MAC address, e.g. 00-90-33-01-02-03 (with --count: the first of N consecutive MACs)')
    .option('--state <dir>', 'where each device keeps its UPDATE/… variables and config', '.aps-sim/innovaphone')
    .option('--count <n>', 'run N devices concurrently and print a summary')
    .option('--hour <h>', "the device clock's hour (0..23) for times /allow")
    .option('--uptime-minutes <m>', 'minutes since the device booted, for times /initial')
    .option('--user <name>', 'HTTP client user name (when the device has a password in APS)')
    .option('--password <pw>', 'HTTP client password')
    .option('--bmc-name <name>', 'BMC file name appended to a bmc URL ending in "/" (DECT products)')
    .option('--ip <addr>', 'the device address put in for #i', '127.0.0.1')
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      const opts: SimOptions = {
        url: o.url,
        product: o.product,
        mac: o.mac,
        stateDir: resolve(o.state),
        hour: o.hour === undefined ? undefined : intIn('--hour', o.hour, 0, 23),
        uptimeMinutes: o.uptimeMinutes === undefined ? undefined : intIn('--uptime-minutes', o.uptimeMinutes, 0, 10_000_000),
        credentials: o.user !== undefined ? { username: o.user, password: o.password ?? '' } : undefined,
        bmcName: o.bmcName,
        ip: o.ip,
        ...tlsFromOptions(o),
      };
      if (o.count !== undefined) {
        const { summary, results } = await runFleet(opts, positiveInt('--count', o.count));
        if (o.json) console.log(JSON.stringify(summary));
        else {
          console.log(
            `${summary.devices} devices, ${summary.failed} failed, stopped by ${JSON.stringify(summary.stoppedBy)}, loaded ${JSON.stringify(summary.loaded)}, ` +
              `${summary.backups} backups, ${summary.bytes} bytes, ${summary.seconds} s, ${summary.pollsPerSecond} polls/s`,
          );
          for (const r of results.filter((x) => !x.ok).slice(0, 5)) console.log(`  ${describe(r)}`);
        }
        if (summary.failed > 0) process.exitCode = 1;
        return;
      }
      const r = await runPoll(opts);
      console.log(o.json ? JSON.stringify(r) : describe(r));
      if (!r.ok) process.exitCode = 1;
    });
}
