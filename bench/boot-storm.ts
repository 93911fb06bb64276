// Boot storm: a site after a power cut. Every adapter's simulator (VOP, innovaphone, Avaya, TR-069, AudioCodes)
// against one APS (compiled, in its own process), --devices in all, mixed 30/20/20/20/10, each doing its full
// first cycle with a small firmware (--firmware-kib). One bench/lib/storm-driver.ts process per adapter runs its
// share of the devices from the adapter's simulator module: they arrive over --spread-s seconds, at most
// --concurrency of them (split among the five by share) talk to APS at once, an attempt that gets no answer
// within --timeout-s counts as a timeout, and a failed attempt is retried as the firmware would (up to
// --retries, CWMP-style back-off from --retry-s); a device is an error only when its last retry failed too.
// --registered N adds idle devices of every adapter (split as the storm is) so the store holds N devices (the 100,000-device store).
// Prints the time until all are done, errors, retries, APS's CPU time and peak RSS, per-adapter latency, and
// the bound: nginx serving the same number of requests of the same firmware bytes (autocannon, 100
// connections), measured in the same run.
//
//   node --import tsx bench/boot-storm.ts [--devices 10000] [--registered 0] [--firmware-kib 64] [--spread-s 60]
//        [--concurrency 200] [--timeout-s 60] [--retries 3] [--retry-s 5]
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  aps,
  HOST,
  machineNote,
  mib,
  procCpuMs,
  procMemory,
  ROOT,
  runBench,
  sampleRss,
  startAps,
  startNginx,
  stop,
  tempDir,
} from './lib/harness.ts';
import { printAdminViews, timeAdminViews } from './lib/admin-views.ts';
import { SIM_KINDS, type SimKind } from './lib/sim-devices.ts';
import { STORM_FIRST, STORM_PASSWORD, STORM_SHARES, stormCounts, writeStormSite } from './lib/storm-site.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    registered: { type: 'string', default: '0' },
    'firmware-kib': { type: 'string', default: '64' },
    'spread-s': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '200' },
    'timeout-s': { type: 'string', default: '60' },
    retries: { type: 'string', default: '3' },
    'retry-s': { type: 'string', default: '5' },
  },
});
const TOTAL = Number(values.devices);
const FW_BYTES = Number(values['firmware-kib']) * 1024;
const PW = STORM_PASSWORD;
const SHARES = STORM_SHARES;
type Kind = SimKind;
const N = stormCounts(TOTAL);

interface Summary {
  kind: Kind;
  devices: number;
  failed: number;
  retries: number;
  timeouts: number;
  requests: number;
  got: Record<string, number>;
  peakConcurrent: number;
  attemptP50ms: number;
  attemptP99ms: number;
  arrivalToDoneP99ms: number;
  seconds: number;
  errors: Record<string, number>;
}

/** Runs one driver to completion; resolves with its summary (its last stdout line). */
function drive(kind: Kind, args: string[], env: NodeJS.ProcessEnv): Promise<Summary> {
  return new Promise((res) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'storm-driver.ts'), '--kind', kind, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-3000)));
    c.on('close', (code) => {
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1);
      if (line) return res(JSON.parse(line) as Summary);
      const none = { retries: 0, timeouts: 0, requests: 0, got: {}, peakConcurrent: 0, attemptP50ms: 0, attemptP99ms: 0 };
      res({
        kind,
        devices: N[kind],
        failed: N[kind],
        ...none,
        arrivalToDoneP99ms: 0,
        seconds: 0,
        errors: { [`exit ${code}`]: 1, [err]: 1 },
      });
    });
  });
}

await runBench(async () => {
  const storm = Object.values(N).reduce((a, b) => a + b, 0);
  const registered = Math.max(Number(values.registered), storm);
  const capTotal = Number(values.concurrency);
  console.log(
    `boot storm: ${TOTAL} devices (${JSON.stringify(N)}), ${registered} registered, firmware ${FW_BYTES} bytes, arrivals over ${values['spread-s']} s, at most ${capTotal} clients at once, attempt timeout ${values['timeout-s']} s, up to ${values.retries} retries; ${machineNote()}`,
  );
  const dir = tempDir('aps-bench-storm-');
  const data = join(dir, 'data');
  // Filler: devices of every adapter that never call, so the store holds --registered devices.
  const filler = registered - storm;
  const site = writeStormSite(dir, N, filler, FW_BYTES);
  let t = performance.now();
  await aps(['apply', site.file], data, dir);
  console.log(
    `set-up: aps apply of ${registered} devices (${filler} idle) and 5 firmwares in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const server = await startAps(data, dir);
  const base = `http://${HOST}:${server.port}`;
  const env = { ...process.env, APS_LOG_LEVEL: 'silent' };
  const state = (n: string): string => {
    const d = join(dir, 'sim', n);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const common = (kind: Kind): string[] => [
    '--count',
    String(N[kind]),
    '--state',
    state(kind),
    '--spread-s',
    String(values['spread-s']),
    '--concurrency',
    String(Math.max(1, Math.round(capTotal * SHARES[kind]))),
    '--timeout-s',
    String(values['timeout-s']),
    '--retries',
    String(values.retries),
    '--retry-s',
    String(values['retry-s']),
  ];
  const rss = sampleRss(server.pid, 100);
  const cpu0 = procCpuMs(server.pid);
  t = performance.now();
  const done = await Promise.all([
    ...SIM_KINDS.map((k) => drive(k, ['--url', base, '--first', STORM_FIRST[k], '--password', PW, ...common(k)], env)),
  ]);
  const seconds = (performance.now() - t) / 1000;
  const cpuS = (procCpuMs(server.pid) - cpu0) / 1000;
  const peak = rss.stop().peak;
  const hwm = procMemory(server.pid)?.hwm ?? 0;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const requests = [...metrics.matchAll(/^aps_device_requests_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  const failed = done.reduce((s, d) => s + d.failed, 0);
  const retries = done.reduce((s, d) => s + d.retries, 0);
  const timeouts = done.reduce((s, d) => s + d.timeouts, 0);
  for (const d of done)
    console.log(
      `  ${d.kind.padEnd(12)} ${String(d.devices).padStart(6)} devices, ${d.failed} failed, ${d.retries} retries (${d.timeouts} timeouts), ${d.requests} requests, done after ${d.seconds.toFixed(1)} s; attempt p50 ${d.attemptP50ms} ms p99 ${d.attemptP99ms} ms (${(d.attemptP50ms / Math.max(1, d.requests / d.devices)).toFixed(1)} ms a request at p50), arrival→done p99 ${d.arrivalToDoneP99ms} ms, peak ${d.peakConcurrent} at once; got ${JSON.stringify(d.got)}${Object.keys(d.errors).length ? ` errors ${JSON.stringify(d.errors).slice(0, 400)}` : ''}`,
    );
  console.log(
    `APS: all ${TOTAL} done in ${seconds.toFixed(1)} s, errors ${failed}, retries ${retries} (${timeouts} attempt timeouts), ${requests} device requests (${Math.round(requests / seconds)}/s), server CPU ${cpuS.toFixed(1)} s (${Math.round((cpuS * 1e6) / Math.max(1, requests))} µs a request), peak RSS sampled ${mib(peak)}, VmHWM ${mib(hwm)}`,
  );
  // The admin views on the fleet the storm left (devices seen, states and events recorded).
  const mid = site.idle.vop > 0 ? `idle-vop${Math.floor(site.idle.vop / 2)}` : `storm-vop${Math.floor(N.vop / 2)}`;
  const views = await timeAdminViews({
    port: server.port,
    adminToken: server.adminToken,
    dataDir: data,
    cwd: dir,
    paths: [
      '/devices?limit=100',
      `/devices?limit=100&after=${mid}`,
      '/devices?limit=100&profile=thomson-tr069',
      '/devices?limit=100&adapter=audiocodes',
      '/devices?limit=100&group=none',
      '/devices?limit=100&status=pending',
      '/devices?limit=100&status=stale',
      '/devices?limit=100&version=2.0',
      `/devices?limit=100&q=storm-gw${N.audiocodes - 1}`,
      '/events?limit=100',
      '/events?limit=100&adapter=avaya',
      `/events?limit=100&device=storm-vop${N.vop}`,
      '/fleet',
      `/fleet?after=${mid}`,
    ],
  });
  printAdminViews(`admin views with ${registered} devices registered (5 rounds each; the CLI 3):`, views);
  await stop(server);

  // The bound: nginx serving as many requests of the same firmware bytes, 100 connections.
  const ngDir = join(dir, 'nginx');
  mkdirSync(ngDir, { recursive: true });
  const nginx = await startNginx((port) => `server { listen ${HOST}:${port}; root ${dir}; }`, ngDir);
  const cpuN0 = procCpuMs(nginx.pid);
  t = performance.now();
  const r = await autocannon({ url: `http://${HOST}:${nginx.port}/fw-vop.bin`, connections: 100, amount: requests });
  const ns = (performance.now() - t) / 1000;
  const nginxCpu = (procCpuMs(nginx.pid) - cpuN0) / 1000;
  console.log(
    `nginx bound: ${r.requests.total} requests of ${FW_BYTES} bytes in ${ns.toFixed(1)} s (${Math.round(r.requests.total / ns)}/s), nginx CPU ${nginxCpu.toFixed(1)} s, non-2xx ${r.non2xx}, errors ${r.errors}, VmHWM ${mib(procMemory(nginx.pid)?.hwm ?? 0)}`,
  );
  console.log(
    `ratio: APS storm time / nginx bound = ${(seconds / ns).toFixed(1)}× (the storm's time includes the ${values['spread-s']} s arrival spread); APS CPU / nginx CPU = ${(cpuS / Math.max(0.01, nginxCpu)).toFixed(1)}× (APS authenticates, renders and records every request; nginx sends one static file)`,
  );
  await stop(nginx);
}, 3600);
