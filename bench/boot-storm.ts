// Boot storm: a site after a power cut. Every adapter's simulator (VOP, innovaphone, Avaya, TR-069, AudioCodes)
// against one APS (compiled, in its own process), --devices in all, mixed 30/20/20/20/10, each doing its full
// first cycle with a small firmware (--firmware-kib). One bench/lib/storm-driver.ts process per adapter runs its
// share of the devices from the adapter's simulator module: they arrive over --spread-s seconds, at most
// --concurrency of them (split among the five by share) talk to APS at once, an attempt that gets no answer
// within --timeout-s counts as a timeout, and a failed attempt is retried as the firmware would (up to
// --retries, CWMP-style back-off from --retry-s); a device is an error only when its last retry failed too.
// --registered N adds filler VOP devices so the store holds N devices (the 100,000-device store).
// Prints the time until all are done, errors, retries, APS's CPU time and peak RSS, per-adapter latency, and
// the bound: nginx serving the same number of requests of the same firmware bytes (autocannon, 100
// connections), measured in the same run.
//
//   node --import tsx bench/boot-storm.ts [--devices 10000] [--registered 0] [--firmware-kib 64] [--spread-s 60]
//        [--concurrency 200] [--timeout-s 60] [--retries 3] [--retry-s 5]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
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
  randomFile,
  ROOT,
  runBench,
  sampleRss,
  startAps,
  startNginx,
  stop,
  tempDir,
} from './lib/harness.ts';
import { printAdminViews, timeAdminViews } from './lib/admin-views.ts';

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
const PW = 'storm-pw-0123456789';
const SHARES = { vop: 0.3, tr069: 0.2, innovaphone: 0.2, avaya: 0.2, audiocodes: 0.1 };
type Kind = keyof typeof SHARES;
const share = (p: number): number => Math.max(1, Math.round(TOTAL * p));
const N: Record<Kind, number> = {
  vop: share(SHARES.vop),
  tr069: share(SHARES.tr069),
  innovaphone: share(SHARES.innovaphone),
  avaya: share(SHARES.avaya),
  audiocodes: share(SHARES.audiocodes),
};

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
  const files = {
    vop: 'fw-vop.bin',
    avaya: 'FW_S_J179_R4_1_1_0_7.bin',
    innovaphone: 'ip6010.bin',
    audiocodes: 'MP124_SIP_F6.60A.360.002.cmp',
    tr069: 'tg784-2.0.bin',
  };
  for (const f of Object.values(files)) randomFile(join(dir, f), FW_BYTES);
  const lines = [
    'artifacts:',
    `  - { file: ${files.vop}, profile: vop, kind: firmware, serial: 2 }`,
    `  - { file: ${files.avaya}, profile: avaya-j100, kind: firmware, models: [J179] }`,
    `  - { file: ${files.innovaphone}, profile: innovaphone-ip6010, kind: firmware, version: 13r3-6010 }`,
    `  - { file: ${files.audiocodes}, profile: audiocodes-mp124, kind: firmware, version: 6.60A.360.002 }`,
    `  - { file: ${files.tr069}, profile: thomson-tr069, kind: firmware, version: '2.0' }`,
    'devices:',
  ];
  for (let i = 1; i <= N.vop; i++) lines.push(`  - { id: storm-vop${i}, profile: vop, model: VOP, password: ${PW} }`);
  for (let i = 0; i < N.tr069; i++) lines.push(`  - { id: ST${i}, profile: thomson-tr069, password: ${PW} }`);
  const acFirst = (0x00908f100000).toString(16).padStart(12, '0');
  for (let i = 0; i < N.audiocodes; i++) {
    const mac = (0x00908f100000 + i).toString(16).padStart(12, '0');
    lines.push(`  - { id: storm-gw${i}, profile: audiocodes-mp124, mac: '${mac}' }`);
  }
  // The phones are known before the power cut (a site's devices were provisioned before): innovaphone
  // and Avaya by MAC too (unknown ones would register as pending, and innovaphone caps those at maxPending).
  for (let i = 0; i < N.innovaphone; i++)
    lines.push(`  - { id: storm-ip${i}, profile: innovaphone-ip6010, mac: '${(0x009033800000 + i).toString(16).padStart(12, '0')}' }`);
  for (let i = 0; i < N.avaya; i++)
    lines.push(`  - { id: storm-av${i}, profile: avaya-j100, model: J179, mac: '${(0x00e0bb800000 + i).toString(16).padStart(12, '0')}' }`);
  // Filler: VOP users that never call, so the store holds --registered devices.
  const filler = registered - storm;
  for (let i = 1; i <= filler; i++) lines.push(`  - { id: idle-vop${i}, profile: vop, model: VOP, password: ${PW} }`);
  writeFileSync(join(dir, 'site.yaml'), lines.join('\n') + '\n');
  let t = performance.now();
  await aps(['apply', join(dir, 'site.yaml')], data, dir);
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
    drive('vop', ['--url', base, '--first', 'storm-vop', '--password', PW, ...common('vop')], env),
    drive('innovaphone', ['--url', `${base}/innovaphone/up/#m/`, '--first', '009033800000', ...common('innovaphone')], env),
    drive('avaya', ['--url', base, '--first', '00e0bb800000', ...common('avaya')], env),
    drive('tr069', ['--url', `${base}/tr069`, '--first', 'ST', '--password', PW, ...common('tr069')], env),
    drive('audiocodes', ['--url', base, '--first', acFirst, ...common('audiocodes')], env),
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
  const mid = filler > 0 ? `idle-vop${Math.floor(filler / 2)}` : `storm-vop${Math.floor(N.vop / 2)}`;
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
  const r = await autocannon({ url: `http://${HOST}:${nginx.port}/${files.vop}`, connections: 100, amount: requests });
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
