// Start-up cost of `aps`, run from the TypeScript sources through tsx (APS_SOURCE=1: how APS ran before the
// production build) against the compiled dist/ (how `npm start`, `aps` and the Docker image run now), in the
// same run and alternating, so the ratios hold on a noisy machine. Figures: time from spawn to the first
// /healthz 200, idle RSS of `aps serve` after start, wall time of `aps --help`; medians of --rounds runs.
// The idle reading is split as the kernel and V8 see it: file-backed RSS (node's own code, native modules),
// anonymous RSS, and from the server's /metrics the V8 heap used / total, the new space and external memory.
// `aps serve` runs with the node flags of `npm start` (src/cli/heap-flags.ts); a --baseline checkout as it is.
// --settle-ms N reads the compiled server once more after N ms idle (V8's memory reducer shrinks the heap
// after ~30 s without allocation: the RSS a server at rest settles at).
//
//   node --import tsx bench/startup.ts [--rounds 7] [--idle-ms 3000] [--settle-ms 0] [--no-build] [--npm-test] [--baseline DIR]
//
// --baseline DIR adds a third column: another checkout (e.g. of main before the build existed), run as it is
// with its own bin/aps.js, for a before/after across commits in the same run.
// The compiled side is built first (`npm run build`) unless --no-build, so it matches the sources.
// --npm-test also times one `npm test` (the suite runs the sources either way: it only shows the suite's wall time).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { SEMI_SPACE_FLAG } from '../src/cli/heap-flags.ts';
import { cleanup, freePort, HOST, machineNote, mib, ROOT, runBench, tempDir } from './lib/harness.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    'idle-ms': { type: 'string', default: '3000' },
    'settle-ms': { type: 'string', default: '0' },
    'no-build': { type: 'boolean', default: false },
    'npm-test': { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const IDLE_MS = Number(values['idle-ms']);
const SETTLE_MS = Number(values['settle-ms']);
const BIN = join(ROOT, 'bin', 'aps.js');

type Mode = 'tsx' | 'compiled' | 'baseline';
const MODES: Mode[] = values.baseline ? ['baseline', 'tsx', 'compiled'] : ['tsx', 'compiled'];
const binOf = (mode: Mode): string => (mode === 'baseline' ? join(values.baseline!, 'bin', 'aps.js') : BIN);

/** The child's environment: none of the caller's APS_* settings, plus the mode's switch. */
function envOf(mode: Mode, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('APS_')) env[k] = v;
  return { ...env, APS_LOG_LEVEL: 'warn', ...(mode === 'tsx' ? { APS_SOURCE: '1' } : {}), ...extra };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where an idle server's memory is: /proc (RSS, anonymous, file-backed) and V8's figures from /metrics. */
interface IdleMemory {
  rss: number;
  anon: number;
  file: number;
  heapUsed: number;
  heapTotal: number;
  newSpace: number;
  external: number;
}

async function idleMemory(pid: number, port: number): Promise<IdleMemory> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const text = await (await fetch(`http://${HOST}:${port}/metrics`)).text();
  const gauge = (name: string): number => Number(new RegExp(`^aps_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
    heapUsed: gauge('nodejs_heap_size_used_bytes'),
    heapTotal: gauge('nodejs_heap_size_total_bytes'),
    newSpace: gauge('nodejs_heap_space_size_total_bytes\\{space="new"\\}'),
    external: gauge('nodejs_external_memory_bytes'),
  };
}

const memLine = (m: IdleMemory): string =>
  `RSS ${mib(m.rss)} (anon ${mib(m.anon)}, file ${mib(m.file)}); V8 heap used ${mib(m.heapUsed)} of ${mib(m.heapTotal)}, new space ${mib(m.newSpace)}, external ${mib(m.external)}`;

/** `aps serve` with HTTP, HTTPS and FTP (as `npm start`); ms from spawn to the first /healthz 200, then idle memory. */
async function serveOnce(mode: Mode, dataDir: string, settleMs = 0): Promise<{ readyMs: number; mem: IdleMemory; settled?: IdleMemory }> {
  const port = await freePort();
  const t0 = performance.now();
  const nodeArgs = mode === 'baseline' ? [] : [SEMI_SPACE_FLAG];
  const proc = spawn(process.execPath, [...nodeArgs, binOf(mode), 'serve', '--host', HOST, '--https-port', '0', '--ftp-port', '0'], {
    cwd: dataDir,
    env: envOf(mode, { APS_DATA: dataDir, APS_HTTP_PORT: String(port), APS_ADMIN_TOKEN: 'bench-startup-token-0123456789' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  try {
    let readyMs = NaN;
    while (Number.isNaN(readyMs)) {
      if (proc.exitCode !== null) throw new Error(`${mode} server exited ${proc.exitCode}: ${err}`);
      if (performance.now() - t0 > 60_000) throw new Error(`${mode} server: no /healthz 200 within 60 s: ${err}`);
      const ok = await fetch(`http://${HOST}:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        async (r) => (await r.arrayBuffer(), r.status === 200),
        () => false,
      );
      if (ok) readyMs = performance.now() - t0;
      else await sleep(5);
    }
    await sleep(IDLE_MS); // let start-up garbage settle: the figure is the server at rest
    const mem = await idleMemory(proc.pid!, port);
    if (!settleMs) return { readyMs, mem };
    await sleep(settleMs);
    return { readyMs, mem, settled: await idleMemory(proc.pid!, port) };
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

function helpOnce(mode: Mode): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [binOf(mode), '--help'], { env: envOf(mode), encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0 || !r.stdout.startsWith('Usage: aps')) throw new Error(`${mode} aps --help failed: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

await runBench(async () => {
  if (!values['no-build']) {
    const t0 = performance.now();
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    console.log(`npm run build: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const baseline = values.baseline ? ` and baseline ${values.baseline}` : '';
  console.log(
    `startup: tsx (APS_SOURCE=1) vs compiled dist/${baseline}, ${ROUNDS} rounds alternating, idle ${IDLE_MS} ms before the RSS reading`,
  );
  console.log(`machine: ${machineNote()}`);
  const dataDir = tempDir('aps-bench-startup-');
  // A first start creates the secret key, the TLS certificate and the database: not what is measured here.
  await serveOnce('compiled', dataDir);

  const ready: Record<Mode, number[]> = { tsx: [], compiled: [], baseline: [] };
  const rss: Record<Mode, number[]> = { tsx: [], compiled: [], baseline: [] };
  const help: Record<Mode, number[]> = { tsx: [], compiled: [], baseline: [] };
  const mem: Record<Mode, IdleMemory[]> = { tsx: [], compiled: [], baseline: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of round % 2 ? MODES : [...MODES].reverse()) {
      const s = await serveOnce(mode, dataDir);
      const h = helpOnce(mode);
      ready[mode].push(s.readyMs);
      rss[mode].push(s.mem.rss);
      mem[mode].push(s.mem);
      help[mode].push(h);
      console.log(
        `  round ${round} ${mode.padEnd(8)}  /healthz after ${s.readyMs.toFixed(0).padStart(5)} ms  idle RSS ${mib(s.mem.rss).padStart(10)}  aps --help ${h.toFixed(0).padStart(5)} ms`,
      );
    }
  }
  const row = (label: string, xs: Record<Mode, number[]>, fmt: (n: number) => string): void => {
    const [a, b] = [median(xs.tsx), median(xs.compiled)];
    const base = values.baseline ? median(xs.baseline) : NaN;
    const before = values.baseline ? `baseline ${fmt(base).padStart(10)}   ` : '';
    const ratio = values.baseline ? `   compiled/baseline ${(b / base).toFixed(2)}` : '';
    console.log(
      `${label.padEnd(22)} ${before}tsx ${fmt(a).padStart(10)}   compiled ${fmt(b).padStart(10)}   compiled/tsx ${(b / a).toFixed(2)}${ratio}`,
    );
  };
  console.log(`medians of ${ROUNDS}:`);
  row('spawn → /healthz 200', ready, (n) => `${n.toFixed(0)} ms`);
  row('idle RSS of aps serve', rss, mib);
  row('aps --help wall time', help, (n) => `${n.toFixed(0)} ms`);
  // The breakdown of the median-RSS round of each mode: where the idle megabytes are.
  for (const mode of MODES) {
    const byRss = [...mem[mode]].sort((a, b) => a.rss - b.rss);
    console.log(`idle ${mode.padEnd(8)} (median round): ${memLine(byRss[byRss.length >> 1]!)}`);
  }
  if (SETTLE_MS) {
    const s = await serveOnce('compiled', dataDir, SETTLE_MS);
    console.log(`compiled after ${IDLE_MS} ms idle: ${memLine(s.mem)}`);
    console.log(`compiled after ${IDLE_MS + SETTLE_MS} ms idle: ${memLine(s.settled!)}`);
  }
  console.log(`machine after: ${machineNote()}`);

  if (values['npm-test']) {
    cleanup();
    const t0 = performance.now();
    const r = spawnSync('npm', ['test'], { cwd: ROOT, stdio: 'ignore' });
    console.log(`npm test: exit ${r.status}, ${((performance.now() - t0) / 1000).toFixed(1)} s wall (machine after: ${machineNote()})`);
  }
}, 3600);
