import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { addTlsOptions, positiveInt, tlsFromOptions, parseDuration } from '../../src/adapter-api.ts';
import { runVopCycle, type CycleResult } from './simulator.ts';

interface FleetSummary {
  vops: number;
  cycles: number;
  failed: number;
  installed: Record<string, number>;
  bytes: number;
  seconds: number;
  cyclesPerSecond: number;
  p50ms: number;
  p99ms: number;
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
}

/**
 * Runs one VOP (user U) or, with `count`, N VOPs (users U1..UN, also when N is 1) through one check each,
 * concurrently. Each keeps its state in `stateDir/<user>`.
 */
export async function runVopFleet(o: {
  server: string;
  user: string;
  password: string;
  stateDir: string;
  count?: number;
  insecure?: boolean;
  ca?: string;
}): Promise<{ summary: FleetSummary; results: CycleResult[] }> {
  const users = o.count === undefined ? [o.user] : Array.from({ length: o.count }, (_, i) => `${o.user}${i + 1}`);
  const times: number[] = [];
  const t0 = performance.now();
  const results = await Promise.all(
    users.map(async (user) => {
      const t = performance.now();
      const r = await runVopCycle({
        server: o.server,
        user,
        password: o.password,
        stateDir: join(o.stateDir, user),
        insecure: o.insecure,
        ca: o.ca,
      });
      times.push(performance.now() - t);
      return r;
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  const installed: Record<string, number> = {};
  for (const r of results) for (const n of r.installed) installed[n] = (installed[n] ?? 0) + 1;
  return {
    results,
    summary: {
      vops: users.length,
      cycles: results.length,
      failed: results.filter((r) => !r.ok).length,
      installed,
      bytes: results.reduce((s, r) => s + r.bytes, 0),
      seconds: Number(seconds.toFixed(3)),
      cyclesPerSecond: Number((results.length / seconds).toFixed(1)),
      p50ms: Number(percentile(times, 0.5).toFixed(1)),
      p99ms: Number(percentile(times, 0.99).toFixed(1)),
    },
  };
}

/** What a VOP puts into its URL unencoded would be read differently by any server ($u, $p in the query). */
export const URL_RESERVED = /[+&=#?%\s]/;

/** `aps simulate vop`: the seed's client algorithm, at start and then every --every (6 hours, as the VOP does). */
export function vopSimulatorCommand(cmd: Command): void {
  addTlsOptions(cmd)
    .requiredOption('--server <url>', 'APS base URL (http://host:8080) or the full info URL template with $t $u $p $v')
    .requiredOption('--user <name>', 'user name (with --count N: the prefix of U1..UN)')
    .requiredOption('--password <pw>', 'password')
    .option('--state <dir>', 'where each VOP keeps its info file and installed files', '.aps-sim/vop')
    .option('--count <n>', 'run N virtual VOPs (users U1..UN) concurrently and print a summary')
    .option('--every <duration>', 'check at start and then every duration, until stopped or --cycles', '6h')
    .option('--cycles <n>', 'stop after N checks')
    .option('--once', 'check once and exit (the same as --cycles 1)')
    .option('--json', 'print results as JSON')
    .action(async (o) => {
      const count = o.count === undefined ? undefined : positiveInt('--count', o.count);
      const every = parseDuration(o.every, '--every');
      if (o.once && o.cycles !== undefined) throw new Error('--once and --cycles cannot be used together');
      const maxCycles = o.once ? 1 : o.cycles !== undefined ? positiveInt('--cycles', o.cycles) : Infinity;
      const tls = tlsFromOptions(o);
      for (const [flag, value] of [
        ['--user', o.user as string],
        ['--password', o.password as string],
      ] as const) {
        if (URL_RESERVED.test(value)) {
          console.error(
            `warning: ${flag} contains a character reserved in URLs (+ & = # ? % or a space); this simulator encodes it, but a VOP that substitutes $u/$p as they are would be refused (401)`,
          );
        }
      }
      let allOk = true;
      for (let cycle = 1; cycle <= maxCycles; cycle++) {
        const { summary, results } = await runVopFleet({
          server: o.server,
          user: o.user,
          password: o.password,
          stateDir: resolve(o.state),
          count,
          ...tls,
        });
        allOk &&= summary.failed === 0;
        for (const w of results.flatMap((r) => r.warnings ?? []).slice(0, 5)) console.error(`warning: ${w}`);
        if (o.json) console.log(JSON.stringify(count === undefined ? results[0] : summary));
        else if (count === undefined) {
          const r = results[0]!;
          console.log(
            r.ok
              ? `check ${cycle}: ok, installed ${r.installed.join(', ') || 'nothing'} (${r.bytes} bytes)`
              : `check ${cycle}: FAILED: ${r.error} (kept the previous state)`,
          );
        } else {
          console.log(
            `check ${cycle}: ${summary.vops} VOPs, ${summary.failed} failed, installed ${JSON.stringify(summary.installed)}, ${summary.bytes} bytes, ` +
              `${summary.seconds} s, ${summary.cyclesPerSecond} checks/s, p50 ${summary.p50ms} ms, p99 ${summary.p99ms} ms`,
          );
          for (const r of results.filter((x) => !x.ok).slice(0, 5)) console.log(`  failure: ${r.error}`);
        }
        if (cycle < maxCycles) await new Promise((r) => setTimeout(r, every));
      }
      if (!allOk) process.exitCode = 1;
    });
}
