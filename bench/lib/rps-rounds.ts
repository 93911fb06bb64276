// Requests per second of several servers answering the same requests, in alternating rounds of autocannon (in
// this process), with each server's CPU time per answered request (less sensitive to other load than req/s).
// Shared by the device-file rows (bench/info-rps.ts, bench/ini-rps.ts).
import autocannon, { type Result } from 'autocannon';
import { HOST, procCpuMs, type ChildServer } from './harness.ts';

export interface RpsOptions {
  connections: number;
  /** Seconds of each measured run; each run follows a 1 s warm-up that is discarded. */
  duration: number;
  rounds: number;
  /** The requests each connection walks through in turn (so the load spreads over every device). */
  requests: Array<{ path: string; headers?: Record<string, string> }>;
}

export interface Run {
  server: string;
  round: number;
  rps: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Server CPU time (all threads) per answered request, in microseconds. */
  cpuUs: number;
}

export type Summary = Omit<Run, 'server' | 'round' | 'total'>;

function load(s: ChildServer, o: RpsOptions, duration: number): Promise<Result> {
  return autocannon({
    url: `http://${HOST}:${s.port}`,
    connections: o.connections,
    duration,
    requests: o.requests.map((r) => ({ method: 'GET', ...r })),
  });
}

async function measure(s: ChildServer, o: RpsOptions, round: number): Promise<Run> {
  await load(s, o, 1); // warm-up, discarded
  const cpu0 = procCpuMs(s.pid);
  const r = await load(s, o, o.duration);
  const cpuMs = procCpuMs(s.pid) - cpu0;
  return {
    server: s.name,
    round,
    rps: r.requests.total / r.duration,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    cpuUs: (cpuMs * 1000) / Math.max(1, r.requests.total),
  };
}

export const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Runs `rounds` rounds, each server once per round in the given order; prints each run as it ends. */
export async function alternatingRounds(servers: ChildServer[], o: RpsOptions): Promise<Map<string, Summary>> {
  const runs: Run[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const s of servers) {
      const r = await measure(s, o, round);
      runs.push(r);
      console.log(
        `  round ${r.round} ${r.server.padEnd(7)}  ${fmt(r.rps).padStart(7)} req/s  (${fmt(r.total)} requests)  server CPU ${fmt(r.cpuUs)} us/req  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}  timeouts ${r.timeouts}  non-2xx ${r.non2xx}`,
      );
    }
  }
  const out = new Map<string, Summary>();
  for (const s of servers) {
    const rs = runs.filter((r) => r.server === s.name);
    const avg = (f: (r: Run) => number): number => rs.reduce((sum, r) => sum + f(r), 0) / rs.length;
    const sum = (f: (r: Run) => number): number => rs.reduce((acc, r) => acc + f(r), 0);
    out.set(s.name, {
      rps: avg((r) => r.rps),
      cpuUs: avg((r) => r.cpuUs),
      p50: avg((r) => r.p50),
      p99: avg((r) => r.p99),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      non2xx: sum((r) => r.non2xx),
    });
  }
  return out;
}

/**
 * Prints each server's means and the ratios of `subject` to every other server, by req/s and by server CPU
 * per request (the steadier figure on a shared machine).
 */
export function printSummary(summaries: Map<string, Summary>, subject: string, note: string): void {
  const label = (name: string): string => (name === 'aps' ? 'APS' : name);
  for (const [name, x] of summaries)
    console.log(
      `${label(name).padEnd(7)}: ${fmt(x.rps).padStart(7)} req/s  server CPU ${fmt(x.cpuUs).padStart(3)} us/req  p50 ${fmt(x.p50, 1)} ms  p99 ${fmt(x.p99, 1)} ms  errors ${x.errors}  timeouts ${x.timeouts}  non-2xx ${x.non2xx}`,
    );
  const a = summaries.get(subject)!;
  const ratios = [...summaries]
    .filter(([name]) => name !== subject)
    .map(
      ([name, x]) => `${label(subject)} / ${name} = ${(a.rps / x.rps).toFixed(3)} by req/s, ${(x.cpuUs / a.cpuUs).toFixed(3)} by CPU/req`,
    );
  console.log(`ratio: ${ratios.join('; ')} (${note})`);
}
