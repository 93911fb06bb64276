// Boot storm: a site after a power cut. Every adapter's simulator at once against one APS (compiled, in its
// own process): VOP, innovaphone and Avaya through `aps simulate <name> --count`, TR-069 and AudioCodes
// through bench/lib/storm-driver.ts (their simulators have no --count), --devices in all, mixed 30/20/20/20/10,
// each doing its full first cycle with a small firmware (--firmware-kib). Prints the time until all are
// done, errors, APS's CPU time and peak RSS, and the bound: nginx serving the same number of requests of the
// same firmware bytes (autocannon, 100 connections), measured in the same run.
//
//   node --import tsx bench/boot-storm.ts [--devices 10000] [--firmware-kib 64]
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
  randomFile,
  ROOT,
  runBench,
  sampleRss,
  startAps,
  startNginx,
  stop,
  tempDir,
} from './lib/harness.ts';

const { values } = parseArgs({
  options: { devices: { type: 'string', default: '10000' }, 'firmware-kib': { type: 'string', default: '64' } },
});
const TOTAL = Number(values.devices);
const FW_BYTES = Number(values['firmware-kib']) * 1024;
const PW = 'storm-pw-0123456789';
const share = (p: number): number => Math.max(1, Math.round(TOTAL * p));
const N = { vop: share(0.3), tr069: share(0.2), innovaphone: share(0.2), avaya: share(0.2), audiocodes: share(0.1) };

interface Done {
  name: string;
  devices: number;
  failed: number;
  seconds: number;
  note: string;
}

/** Runs a command to completion; resolves with its stdout (its last JSON line is the summary). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((res, rej) => {
    const c = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-3000)));
    // A simulator exits 1 when any device failed; its summary (on stdout) still says how many.
    c.on('close', (code) =>
      code === 0 || out.includes('{')
        ? res(out)
        : rej(new Error(`${args.slice(0, 3).join(' ')} exited ${code}: ${err || out.slice(-2000)}`)),
    );
  });
}

const lastJson = (out: string): Record<string, unknown> =>
  JSON.parse(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .at(-1) ?? '{}',
  ) as Record<string, unknown>;

await runBench(async () => {
  console.log(`boot storm: ${TOTAL} devices (${JSON.stringify(N)}), firmware ${FW_BYTES} bytes; ${machineNote()}`);
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
  const acFirst = 0x00908f100000;
  for (let i = 0; i < N.audiocodes; i++) {
    const mac = (acFirst + i).toString(16).padStart(12, '0');
    lines.push(`  - { id: storm-gw${i}, profile: audiocodes-mp124, mac: '${mac}' }`);
  }
  writeFileSync(join(dir, 'site.yaml'), lines.join('\n') + '\n');
  let t = performance.now();
  await aps(['apply', join(dir, 'site.yaml')], data, dir);
  console.log(
    `set-up: aps apply of ${N.vop + N.tr069 + N.audiocodes} devices and 5 firmwares in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const server = await startAps(data, dir);
  const base = `http://${HOST}:${server.port}`;
  const env = { ...process.env, APS_LOG_LEVEL: 'silent' };
  const state = (n: string): string => {
    const d = join(dir, 'sim', n);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const apsBin = [join(ROOT, 'bin', 'aps.js')];
  const driver = ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'storm-driver.ts')];
  const jobs: Array<Promise<Done>> = [];
  const rss = sampleRss(server.pid, 100);
  const cpu0 = procCpuMs(server.pid);
  t = performance.now();
  const timed = (name: string, devices: number, p: Promise<string>, failedOf: (j: Record<string, unknown>) => number): Promise<Done> =>
    p.then(
      (out) => {
        const j = lastJson(out);
        const got = j.installed ?? j.loaded ?? j.downloaded;
        return { name, devices, failed: failedOf(j), seconds: (performance.now() - t) / 1000, note: got ? JSON.stringify(got) : '' };
      },
      (e: Error) => ({ name, devices, failed: devices, seconds: (performance.now() - t) / 1000, note: e.message.slice(0, 300) }),
    );
  const sim = (args: string[]): Promise<string> => run(process.execPath, [...apsBin, 'simulate', ...args, '--json'], env);
  jobs.push(
    timed(
      'vop',
      N.vop,
      sim(['vop', '--server', base, '--user', 'storm-vop', '--password', PW, '--count', String(N.vop), '--once', '--state', state('vop')]),
      (j) => Number((j as { failed?: number }).failed ?? N.vop),
    ),
  );
  jobs.push(
    timed(
      'innovaphone',
      N.innovaphone,
      sim([
        'innovaphone',
        '--url',
        `${base}/innovaphone/up/#m/`,
        '--product',
        'IP6010',
        '--mac',
        '00-90-33-80-00-00',
        '--count',
        String(N.innovaphone),
        '--uptime-minutes',
        '30',
        '--state',
        state('innovaphone'),
      ]),
      (j) => Number((j as { failed?: number }).failed ?? N.innovaphone),
    ),
  );
  jobs.push(
    timed(
      'avaya',
      N.avaya,
      sim(['avaya', '--server', base, '--model', 'J179', '--mac', '00e0bb800000', '--count', String(N.avaya), '--state', state('avaya')]),
      (j) => Number((j as { failed?: number }).failed ?? N.avaya),
    ),
  );
  jobs.push(
    timed('tr069', N.tr069, run(process.execPath, [...driver, 'tr069', `${base}/tr069`, String(N.tr069), 'ST', PW], env), (j) =>
      Number((j as { failed?: number }).failed ?? N.tr069),
    ),
  );
  jobs.push(
    timed(
      'audiocodes',
      N.audiocodes,
      run(process.execPath, [...driver, 'audiocodes', base, String(N.audiocodes), acFirst.toString(16).padStart(12, '0')], env),
      (j) => Number((j as { failed?: number }).failed ?? N.audiocodes),
    ),
  );
  const done = await Promise.all(jobs);
  const seconds = (performance.now() - t) / 1000;
  const cpuS = (procCpuMs(server.pid) - cpu0) / 1000;
  const peak = rss.stop().peak;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const requests = [...metrics.matchAll(/^aps_device_requests_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  const failed = done.reduce((s, d) => s + d.failed, 0);
  for (const d of done)
    console.log(
      `  ${d.name.padEnd(12)} ${String(d.devices).padStart(6)} devices, ${d.failed} failed, done after ${d.seconds.toFixed(1)} s ${d.note}`,
    );
  console.log(
    `APS: all ${TOTAL} done in ${seconds.toFixed(1)} s, errors ${failed}, ${requests} device requests (${Math.round(requests / seconds)}/s), server CPU ${cpuS.toFixed(1)} s, peak RSS ${mib(peak)}`,
  );
  await stop(server);

  // The bound: nginx serving as many requests of the same firmware bytes, 100 connections.
  const ngDir = join(dir, 'nginx');
  mkdirSync(ngDir, { recursive: true });
  const nginx = await startNginx((port) => `server { listen ${HOST}:${port}; root ${dir}; }`, ngDir);
  const cpuN0 = procCpuMs(nginx.pid);
  t = performance.now();
  const r = await autocannon({ url: `http://${HOST}:${nginx.port}/${files.vop}`, connections: 100, amount: requests });
  const ns = (performance.now() - t) / 1000;
  console.log(
    `nginx bound: ${r.requests.total} requests of ${FW_BYTES} bytes in ${ns.toFixed(1)} s (${Math.round(r.requests.total / ns)}/s), nginx CPU ${((procCpuMs(nginx.pid) - cpuN0) / 1000).toFixed(1)} s, non-2xx ${r.non2xx}`,
  );
  console.log(
    `ratio: APS storm time / nginx bound = ${(seconds / ns).toFixed(1)}× (APS authenticates, renders and records every request; nginx sends one static file)`,
  );
  await stop(nginx);
}, 3600);
