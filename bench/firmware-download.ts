// Concurrent firmware downloads: N VOP users (one per client) fetch a large firmware through APS
// (`GET /vop/f?u=..&p=..`) at the same time, bodies streamed and discarded, byte counts checked; baseline:
// the same file from a bare node:http server doing fs.createReadStream(file).pipe(res). Both servers run in
// their own child process; their memory is read from /proc: VmRSS sampled every 100 ms, VmHWM at the end.
// The point: memory stays bounded whatever the file size and the number of downloads.
//
//   node --import tsx bench/firmware-download.ts [N=20] [--size-mib 64] [--rounds 2]
//
// Loopback only. Stops by itself; kills its children and removes its temp folder on exit.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  freePort,
  HOST,
  machineNote,
  ROOT,
  startNginx,
  procCpuMs,
  applyFleet,
  mib,
  percentile,
  procMemory,
  randomFile,
  runBench,
  sampleRss,
  startAps,
  startBare,
  stop,
  tempDir,
  type ChildServer,
} from './lib/harness.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'size-mib': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '2' },
  },
});
const N = Number(positionals[0] ?? 20);
const SIZE = Number(args['size-mib']) * (1 << 20);
const ROUNDS = Number(args.rounds);
const PASSWORD = 'bench-pw';
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(SIZE) || SIZE < 1 || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('usage: firmware-download.ts [N] [--size-mib MiB] [--rounds R]');
  process.exit(64);
}

/** One download: streams the body away, returns the time and the byte count. */
function download(port: number, path: string, agent: Agent): Promise<{ ms: number; bytes: number; status: number; length: number }> {
  return new Promise((res, rej) => {
    const t = performance.now();
    const req = get({ host: HOST, port, path, agent }, (r) => {
      let bytes = 0;
      r.on('data', (c: Buffer) => (bytes += c.length));
      r.on('end', () =>
        res({ ms: performance.now() - t, bytes, status: r.statusCode ?? 0, length: Number(r.headers['content-length'] ?? NaN) }),
      );
      r.on('error', rej);
    });
    req.on('error', rej);
    req.setTimeout(120_000, () => req.destroy(new Error(`${path}: no progress for 120 s`)));
  });
}

interface Round {
  server: string;
  round: number;
  seconds: number;
  mbps: number;
  times: number[];
  failures: string[];
  /** Server CPU time (all threads) during the round, ms. */
  cpuMs: number;
}

async function round(s: ChildServer, paths: string[], n: number): Promise<Round> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const cpu0 = procCpuMs(s.pid);
  const t = performance.now();
  const results = await Promise.allSettled(paths.map((p) => download(s.port, p, agent)));
  const seconds = (performance.now() - t) / 1000;
  const cpuMs = procCpuMs(s.pid) - cpu0;
  agent.destroy();
  const failures: string[] = [];
  const times: number[] = [];
  let total = 0;
  results.forEach((r, i) => {
    if (r.status === 'rejected') return void failures.push(`#${i + 1}: ${(r.reason as Error).message}`);
    const v = r.value;
    total += v.bytes;
    times.push(v.ms);
    if (v.status !== 200) failures.push(`#${i + 1}: status ${v.status}`);
    else if (v.bytes !== SIZE || v.length !== SIZE)
      failures.push(`#${i + 1}: ${v.bytes} bytes (Content-Length ${v.length}), expected ${SIZE}`);
  });
  times.sort((a, b) => a - b);
  return { server: s.name, round: n, seconds, mbps: total / seconds / 1e6, times, failures, cpuMs };
}

async function measure(s: ChildServer, paths: string[]): Promise<void> {
  const before = procMemory(s.pid)!;
  const sampler = sampleRss(s.pid, 100);
  const rounds: Round[] = [];
  for (let r = 1; r <= ROUNDS; r++) rounds.push(await round(s, paths, r));
  const { peak, samples } = sampler.stop();
  const after = procMemory(s.pid)!;
  for (const r of rounds) {
    const t = r.times;
    console.log(
      `  ${s.name.padEnd(4)} round ${r.round}: ${N} x ${mib(SIZE)} in ${r.seconds.toFixed(2)} s = ${r.mbps.toFixed(0)} MB/s total, server CPU ${(r.cpuMs / 1000).toFixed(2)} s; ` +
        `per request min ${(t[0]! / 1000).toFixed(2)} s, p50 ${(percentile(t, 0.5) / 1000).toFixed(2)} s, max ${(t[t.length - 1]! / 1000).toFixed(2)} s; ` +
        `${r.failures.length ? `FAILED ${r.failures.length}: ${r.failures.slice(0, 3).join('; ')}` : `all ${N} complete, byte counts ok`}`,
    );
    if (r.failures.length) process.exitCode = 1;
  }
  console.log(
    `  ${s.name.padEnd(4)} memory: VmRSS before ${mib(before.rss)}, peak sampled VmRSS ${mib(peak)} (${samples} samples, every 100 ms), ` +
      `VmHWM ${mib(after.hwm)} (was ${mib(before.hwm)} before the downloads); ${mib(N * SIZE * ROUNDS)} served in all`,
  );
}

async function main(): Promise<void> {
  const dir = tempDir('aps-bench-fw-');
  const data = join(dir, 'data');
  const firmware = join(dir, 'firmware.bin');
  randomFile(firmware, SIZE);
  console.log(`firmware-download: ${N} concurrent downloads of a ${mib(SIZE)} firmware, ${ROUNDS} rounds per server, MB = 10^6 bytes`);

  const t = performance.now();
  const applied = await applyFleet({ dir, dataDir: data, prefix: 'fw', count: N, password: PASSWORD, firmware, firmwareSerial: 42 });
  console.log(`set-up: ${applied.join('; ')} (${((performance.now() - t) / 1000).toFixed(1)} s)`);

  console.log(`machine: ${machineNote()}`);
  const server = await startAps(data, dir);
  const users = Array.from({ length: N }, (_, i) => `fw${i + 1}`);
  const q = (u: string): string => `u=${encodeURIComponent(u)}&p=${encodeURIComponent(PASSWORD)}`;
  // Each VOP asks for its info file first (as in a real cycle); that also runs the one scrypt check per user.
  for (let i = 0; i < users.length; i += 8) {
    await Promise.all(
      users.slice(i, i + 8).map(async (u) => {
        const r = await fetch(`http://${HOST}:${server.port}/vop/i?${q(u)}`);
        const xml = await r.text();
        if (r.status !== 200 || !xml.includes('<serial>42</serial>'))
          throw new Error(`info for ${u}: status ${r.status}, no firmware serial 42 in it`);
      }),
    );
  }
  await measure(
    server,
    users.map((u) => `/vop/f?${q(u)}`),
  );
  await stop(server);

  const bare = await startBare('stream', firmware, 'application/octet-stream');
  await measure(
    bare,
    users.map(() => '/'),
  );
  await stop(bare);

  // The bound: nginx (Debian's, sendfile) serving the same file as a static file.
  const ngDir = join(dir, 'nginx-static');
  mkdirSync(ngDir);
  const nginx = await startNginx((port) => `server { listen ${HOST}:${port}; root ${dir}; }`, ngDir);
  await measure(
    nginx,
    users.map(() => '/firmware.bin'),
  );
  await stop(nginx);

  // Front-proxy mode: APS decides and records, nginx sends the blob (X-Accel-Redirect, nginx/aps.conf.template).
  const fpDir = join(dir, 'front-proxy');
  mkdirSync(fpDir);
  const completionPort = await freePort();
  writeFileSync(join(fpDir, 'aps.yaml'), `http: { frontProxy: { mode: x-accel, completionPort: ${completionPort} } }\n`);
  const behind = await startAps(data, fpDir);
  const template = readFileSync(join(ROOT, 'nginx', 'aps.conf.template'), 'utf8');
  const front = await startNginx((port) => {
    const vars: Record<string, string> = {
      NGINX_LISTEN: `${HOST}:${port}`,
      APS_UPSTREAM: `${HOST}:${behind.port}`,
      APS_COMPLETION: `${HOST}:${completionPort}`,
      APS_PREFIX: '/_blobs/',
      APS_BLOBS: `${join(data, 'blobs')}/`,
    };
    return template.replace(/\$\{([A-Z_]+)\}/g, (_m, k: string) => vars[k]!);
  }, fpDir);
  await measure(
    { ...front, name: 'aps+nginx' },
    users.map((u) => `/vop/f?${q(u)}`),
  );
  const apsCpu = procCpuMs(behind.pid);
  console.log(
    `  aps+nginx: APS's own CPU for deciding and recording all of them: ${(apsCpu / 1000).toFixed(2)} s (nginx's is in the rounds above)`,
  );
  await stop(front);
  await stop(behind);
  console.log(`machine after: ${machineNote()}`);
}

await runBench(main, 900);
