// Start-up cost of `aps`, run from the TypeScript sources through tsx (APS_SOURCE=1: how APS ran before the
// production build) against the compiled dist/ (how `npm start`, `aps` and the Docker image run now), in the
// same run and alternating, so the ratios hold on a noisy machine. Figures: time from spawn to the first
// /healthz 200, idle RSS of `aps serve` after start, wall time of `aps --help`; medians of --rounds runs.
//
//   node --import tsx bench/startup.ts [--rounds 7] [--idle-ms 3000] [--no-build] [--npm-test] [--baseline DIR]
//
// --baseline DIR adds a third column: another checkout (e.g. of main before the build existed), run as it is
// with its own bin/aps.js, for a before/after across commits in the same run.
// The compiled side is built first (`npm run build`) unless --no-build, so it matches the sources.
// --npm-test also times one `npm test` (the suite runs the sources either way: it only shows the suite's wall time).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanup, freePort, HOST, machineNote, mib, procMemory, ROOT, runBench, tempDir } from './lib/harness.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    'idle-ms': { type: 'string', default: '3000' },
    'no-build': { type: 'boolean', default: false },
    'npm-test': { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const IDLE_MS = Number(values['idle-ms']);
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

/** `aps serve` with HTTP, HTTPS and FTP (as `npm start`); ms from spawn to the first /healthz 200, then idle RSS. */
async function serveOnce(mode: Mode, dataDir: string): Promise<{ readyMs: number; rss: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawn(process.execPath, [binOf(mode), 'serve', '--host', HOST, '--https-port', '0', '--ftp-port', '0'], {
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
    const m = procMemory(proc.pid!);
    if (!m) throw new Error(`${mode} server gone before the RSS reading`);
    return { readyMs, rss: m.rss };
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
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of round % 2 ? MODES : [...MODES].reverse()) {
      const s = await serveOnce(mode, dataDir);
      const h = helpOnce(mode);
      ready[mode].push(s.readyMs);
      rss[mode].push(s.rss);
      help[mode].push(h);
      console.log(
        `  round ${round} ${mode.padEnd(8)}  /healthz after ${s.readyMs.toFixed(0).padStart(5)} ms  idle RSS ${mib(s.rss).padStart(10)}  aps --help ${h.toFixed(0).padStart(5)} ms`,
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
  console.log(`machine after: ${machineNote()}`);

  if (values['npm-test']) {
    cleanup();
    const t0 = performance.now();
    const r = spawnSync('npm', ['test'], { cwd: ROOT, stdio: 'ignore' });
    console.log(`npm test: exit ${r.status}, ${((performance.now() - t0) / 1000).toFixed(1)} s wall (machine after: ${machineNote()})`);
  }
}, 3600);
