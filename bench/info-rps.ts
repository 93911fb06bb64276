// Info requests per second: APS (`GET /vop/i?u=..&p=..`) against a bare node:http server answering the
// same bytes, with the same load generator (autocannon, in this process) in the same run. As a third
// reference, one express 5 route answering the same bytes (the framework's ceiling DESIGN.md aims at).
// Each server runs in its own child process. Then one `aps simulate vop --once --count 200` full cycle against APS.
//
//   node --import tsx bench/info-rps.ts [--devices 1000] [--users 200] [--connections 50] [--duration 5] [--rounds 2]
//
// Loopback only. Stops by itself; kills its children and removes its temp folder on exit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon, { type Result } from 'autocannon';
import {
  HOST,
  machineNote,
  procCpuMs,
  aps,
  applyFleet,
  mib,
  procMemory,
  randomFile,
  runBench,
  startAps,
  startBare,
  stop,
  tempDir,
  type ChildServer,
} from './lib/harness.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    users: { type: 'string', default: '200' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    'sim-count': { type: 'string', default: '200' },
  },
});
const DEVICES = Number(args.devices);
const USERS = Math.min(Number(args.users), DEVICES);
const CONNECTIONS = Number(args.connections);
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const SIM_COUNT = Math.min(Number(args['sim-count']), DEVICES);
const PASSWORD = 'bench-pw';
const FIRMWARE_BYTES = 1 << 20;
const CONTENT_TYPE = 'application/xml; charset=utf-8';

interface Run {
  server: string;
  round: number;
  rps: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Server CPU time (all threads) per answered request, in microseconds: less sensitive to other load than req/s. */
  cpuUs: number;
}

async function load(s: ChildServer, paths: string[], duration: number): Promise<Result> {
  return autocannon({
    url: `http://${HOST}:${s.port}`,
    connections: CONNECTIONS,
    duration,
    // Each connection walks the whole list, so requests spread over every user.
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
}

async function measure(s: ChildServer, paths: string[], round: number): Promise<Run> {
  await load(s, paths, 1); // warm-up, discarded
  const cpu0 = procCpuMs(s.pid);
  const r = await load(s, paths, DURATION);
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

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const line = (r: Run): string =>
  `  round ${r.round} ${r.server.padEnd(7)}  ${fmt(r.rps).padStart(7)} req/s  (${fmt(r.total)} requests)  server CPU ${fmt(r.cpuUs)} us/req  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}  timeouts ${r.timeouts}  non-2xx ${r.non2xx}`;

async function main(): Promise<void> {
  const dir = tempDir('aps-bench-info-');
  const data = join(dir, 'data');
  const firmware = join(dir, 'firmware.bin');
  randomFile(firmware, FIRMWARE_BYTES);

  console.log(
    `info-rps: ${DEVICES} VOP devices, autocannon ${CONNECTIONS} connections x ${DURATION} s (after 1 s warm-up), ${ROUNDS} rounds alternating APS / bare / express`,
  );
  let t = performance.now();
  const applied = await applyFleet({ dir, dataDir: data, prefix: 'vop', count: DEVICES, password: PASSWORD, firmware, firmwareSerial: 7 });
  console.log(`set-up: ${applied.join('; ')} (${((performance.now() - t) / 1000).toFixed(1)} s)`);

  console.log(`machine: ${machineNote()}`);
  const server = await startAps(data, dir);
  // The load uses the last USERS users, the simulator the first SIM_COUNT: both start with a cold credential cache.
  const users = Array.from({ length: USERS }, (_, i) => `vop${DEVICES - USERS + i + 1}`);
  const paths = users.map((u) => `/vop/i?u=${encodeURIComponent(u)}&p=${encodeURIComponent(PASSWORD)}`);

  // First request of each user: checks the answer and runs the one scrypt verification per user, so the
  // measured runs see the steady state (a verified credential is remembered for credentialCacheSeconds).
  t = performance.now();
  let body: Buffer | undefined;
  for (let i = 0; i < paths.length; i += 8) {
    await Promise.all(
      paths.slice(i, i + 8).map(async (p) => {
        const r = await fetch(`http://${HOST}:${server.port}${p}`);
        const b = Buffer.from(await r.arrayBuffer());
        if (r.status !== 200) throw new Error(`${p}: APS answered ${r.status}`);
        if (r.headers.get('content-type') !== CONTENT_TYPE)
          throw new Error(`${p}: unexpected content type ${r.headers.get('content-type')}`);
        if (body && b.length !== body.length) throw new Error(`${p}: ${b.length} bytes, another user got ${body.length}`);
        body ??= b;
      }),
    );
  }
  const warmS = (performance.now() - t) / 1000;
  console.log(
    `first request of ${USERS} users (one scrypt check each): ${warmS.toFixed(2)} s, ${fmt(USERS / warmS, 1)} req/s; info file ${body!.length} bytes`,
  );

  const infoFile = join(dir, 'info.xml');
  writeFileSync(infoFile, body!);
  const bare = await startBare('static', infoFile, CONTENT_TYPE);
  const exp = await startBare('express', infoFile, CONTENT_TYPE);

  const runs: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of [server, bare, exp]) {
      const r = await measure(s, paths, round);
      runs.push(r);
      console.log(line(r));
    }
  }
  await Promise.all([stop(bare), stop(exp)]);

  const summary = (name: string) => {
    const rs = runs.filter((r) => r.server === name);
    const avg = (f: (r: Run) => number): number => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    return {
      rps: avg((r) => r.rps),
      cpuUs: avg((r) => r.cpuUs),
      p50: avg((r) => r.p50),
      p99: avg((r) => r.p99),
      errors: avg((r) => r.errors) * rs.length,
      timeouts: avg((r) => r.timeouts) * rs.length,
      non2xx: avg((r) => r.non2xx) * rs.length,
    };
  };
  const a = summary('aps');
  const b = summary('bare');
  const e = summary('express');
  const show = (name: string, x: typeof a): void =>
    console.log(
      `${name.padEnd(7)}: ${fmt(x.rps).padStart(7)} req/s  server CPU ${fmt(x.cpuUs).padStart(3)} us/req  p50 ${fmt(x.p50, 1)} ms  p99 ${fmt(x.p99, 1)} ms  errors ${x.errors}  timeouts ${x.timeouts}  non-2xx ${x.non2xx}`,
    );
  show('APS', a);
  show('bare', b);
  show('express', e);
  console.log(
    `ratio: APS / bare = ${(a.rps / b.rps).toFixed(3)}, APS / express = ${(a.rps / e.rps).toFixed(3)} (means of ${ROUNDS} runs each; ${body!.length}-byte body, ${USERS} users, ${CONNECTIONS} connections)`,
  );
  const mem = procMemory(server.pid);
  if (mem) console.log(`APS server memory after the runs: VmRSS ${mib(mem.rss)}, VmHWM ${mib(mem.hwm)}`);

  // One full VOP cycle per simulated user (info, then firmware and config since each is new to it).
  const simState = join(dir, 'sim');
  const out = await aps(
    [
      'simulate',
      'vop',
      '--once',
      '--server',
      `http://${HOST}:${server.port}`,
      '--user',
      'vop',
      '--password',
      PASSWORD,
      '--count',
      String(SIM_COUNT),
      '--state',
      simState,
    ],
    data,
    dir,
  ).catch((e: Error) => e.message);
  console.log(`aps simulate vop --once --count ${SIM_COUNT} (cold credential cache, ${mib(FIRMWARE_BYTES)} firmware):`);
  console.log(`  ${out.trim().split('\n').join('\n  ')}`);
  await stop(server);
  console.log(`machine after: ${machineNote()}`);
}

await runBench(main, 600);
