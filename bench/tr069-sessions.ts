// Prints TR-069 figures: CWMP Inform parse rate (saxes, xml-tree.ts) and sustained full sessions per second
// (401, Inform with Digest, empty POST, 204) for N simulated CPEs at once against APS in its own process,
// with the server's and the client's CPU time per session. No assertions.
// Run: node --import tsx bench/tr069-sessions.ts [cpes=100] [--seconds 10] [--rounds 2] [--procs 2] [--warmup 2] [--baseline DIR]
//        [--connection session|message]
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseCwmp } from '../adapters/tr069/soap.ts';
import type { RoundResult } from './lib/tr069-cpe-worker.ts';
import { aps, HOST, machineNote, procCpuMs, runBench, startAps, stop, tempDir } from './lib/harness.ts';

const xml = readFileSync(new URL('../adapters/tr069/fixtures/inform_gfiber_cpe.xml', import.meta.url));
for (let i = 0; i < 500; i++) parseCwmp(xml);
let t = performance.now();
for (let i = 0; i < 5000; i++) parseCwmp(xml);
const informMs = (performance.now() - t) / 5000;
console.log(`Inform parse (${xml.length} bytes): ${Math.round(1000 / informMs)}/s`);

// Hostile bodies against the same parser, timed to the refusal (a work limit stops each one): the audit's
// 4000 namespace declarations × 20000 elements took ~17 s before the limits, 80000 attributes 2.8 s.
const decls = Array.from({ length: 4000 }, (_, i) => `xmlns:p${i}="urn:x${i}"`).join(' ');
const bombs = {
  'namespace bomb': Buffer.from(
    `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ${decls}><soap:Body>${'<b/>'.repeat(20_000)}</soap:Body></soap:Envelope>`,
  ),
  'attribute bomb': Buffer.from(
    `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ${Array.from({ length: 80_000 }, (_, i) => `a${i}="1"`).join(' ')}/>`,
  ),
};
for (const [name, body] of Object.entries(bombs)) {
  t = performance.now();
  let refused = '';
  try {
    parseCwmp(body, { maxBytes: 4 << 20 });
  } catch (e) {
    refused = (e as Error).message;
  }
  const ms = performance.now() - t;
  console.log(
    `${name} (${body.length} bytes): ${refused ? `refused in ${ms.toFixed(1)} ms (${refused}), ${(ms / informMs).toFixed(0)}× one Inform's parse` : `parsed in ${ms.toFixed(1)} ms`}`,
  );
}

// Sessions, sustained: APS (compiled, `npm run build` first) in its own process; the simulated CPEs in
// `--procs` child processes (bench/lib/tr069-cpe-worker.ts), each CPE running full sessions back to back for
// `--seconds`, `--rounds` times after a warm-up. What goes over the wire is the simulator's, unchanged: a
// real Digest answer to each session's 401, the real Inform, one keep-alive TCP connection per session as
// TR-069 §3.4.2 asks (`--connection message`: a fresh one per HTTP message, as some old firmware does). The
// server's CPU time per session is the figure other load moves least; the client's CPU is printed too, to
// tell whether the bench itself is the bound (2 cores: server + client cannot both have one to themselves).
const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    procs: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '2' },
    baseline: { type: 'string' },
    connection: { type: 'string', default: 'session' },
  },
});
const cpes = Number(positionals[0] ?? 100);
const seconds = Number(opt.seconds);
if (opt.connection !== 'session' && opt.connection !== 'message') throw new Error('--connection must be session or message');
const procs = Math.max(1, Math.min(Number(opt.procs), cpes));
const WORKER = fileURLToPath(new URL('./lib/tr069-cpe-worker.ts', import.meta.url));

interface Worker {
  proc: ChildProcess;
  pid: number;
  next<T>(): Promise<T>;
}
const workers: Worker[] = [];
process.once('exit', () => workers.forEach((w) => w.proc.kill('SIGKILL')));

function startWorker(acs: string, from: number, to: number): Worker {
  const proc = fork(WORKER, [acs, String(from), String(to), opt.connection!], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue: unknown[] = [];
  const waiting: Array<(m: unknown) => void> = [];
  proc.on('message', (m) => (waiting.length ? waiting.shift()!(m) : queue.push(m)));
  proc.on('exit', (code) => waiting.splice(0).forEach((w) => w({ exited: code })));
  return {
    proc,
    pid: proc.pid!,
    next: <T>() => new Promise<T>((res) => (queue.length ? res(queue.shift() as T) : waiting.push(res as (m: unknown) => void))),
  };
}

interface Target {
  name: string;
  server: Awaited<ReturnType<typeof startAps>>;
  workers: Worker[];
  serverUsPerSession: number[];
}

/** A data folder with the fleet applied by that build's own CLI, its server, and the CPE processes for it. */
async function startTarget(name: string, dir: string, bin: string | undefined): Promise<Target> {
  const fleet = join(dir, 'cpes.yaml');
  const data = join(dir, `data-${name}`);
  await aps(['apply', fleet], data, dir, bin);
  const server = await startAps(data, dir, bin);
  const acs = `http://${HOST}:${server.port}/tr069`;
  const ws: Worker[] = [];
  for (let p = 0; p < procs; p++) ws.push(startWorker(acs, Math.floor((p * cpes) / procs), Math.floor(((p + 1) * cpes) / procs)));
  workers.push(...ws);
  // First contact: each CPE gets and completes its config download.
  const ready = await Promise.all(ws.map((w) => w.next<{ ready?: boolean; failed: number; firstError?: string }>()));
  if (ready.some((r) => !r.ready || r.failed > 0)) throw new Error(`${name}: first contact failed: ${JSON.stringify(ready)}`);
  return { name, server, workers: ws, serverUsPerSession: [] };
}

async function run(t: Target, sec: number): Promise<{ res: RoundResult[]; wall: number; serverMs: number }> {
  const cpu0 = procCpuMs(t.server.pid);
  const t0 = performance.now();
  t.workers.forEach((w) => w.proc.send({ go: sec }));
  const res = await Promise.all(t.workers.map((w) => w.next<RoundResult>()));
  const wall = (performance.now() - t0) / 1000;
  return { res, wall, serverMs: procCpuMs(t.server.pid) - cpu0 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

await runBench(
  async () => {
    const dir = tempDir('aps-bench-tr069-');
    writeFileSync(
      join(dir, 'cpes.yaml'),
      'devices:\n' +
        Array.from({ length: cpes }, (_, i) => `  - { id: B${i}, profile: thomson-tr069, password: pw-B${i}-0123456789 }\n`).join(''),
    );
    // --baseline DIR: another build (e.g. a checkout of main, built) measured in the same run, rounds alternating.
    const targets: Target[] = [];
    if (opt.baseline) targets.push(await startTarget('baseline', dir, join(opt.baseline, 'bin', 'aps.js')));
    targets.push(await startTarget('aps', dir, undefined));
    for (const t of targets) await run(t, Number(opt.warmup));
    console.log(
      `sessions: ${cpes} CPEs in ${procs} client process(es) per server, each CPE's sessions back to back for ${seconds} s a round, a TCP connection per ${opt.connection}; APS in its own process (${machineNote()})`,
    );
    // For a --cpu-prof of the server: the steady phase on the monotonic clock V8's profile timestamps use.
    const steady0 = process.hrtime.bigint() / 1000n;
    for (let r = 1; r <= Number(opt.rounds); r++) {
      for (const t of r % 2 === 1 ? targets : [...targets].reverse()) {
        const { res, wall, serverMs } = await run(t, seconds);
        const n = res.reduce((a, x) => a + x.sessions, 0);
        const msgs = res.reduce((a, x) => a + x.messages, 0);
        const failed = res.reduce((a, x) => a + x.failed, 0);
        const clientMs = res.reduce((a, x) => a + x.cpuMs, 0);
        const err = res.find((x) => x.firstError)?.firstError;
        t.serverUsPerSession.push((serverMs * 1000) / n);
        console.log(
          `${t.name.padEnd(8)} round ${r}: ${n} sessions in ${wall.toFixed(1)} s, ${failed} failed${err ? ` (${err})` : ''}: ${Math.round(n / wall)} sessions/s, ${Math.round(msgs / wall)} HTTP messages/s; ` +
            `server CPU ${((serverMs * 1000) / n).toFixed(0)} us/session (${((100 * serverMs) / 1000 / wall).toFixed(0)} % of a core; one core: ${Math.round((n * 1000) / serverMs)} sessions/s), ` +
            `client CPU ${((clientMs * 1000) / n).toFixed(0)} us/session (${((100 * clientMs) / 1000 / wall).toFixed(0)} % of a core)`,
        );
      }
    }
    if (process.env.APS_BENCH_NODE_ARGS?.includes('--cpu-prof'))
      console.log(`server profile: steady phase from ${steady0} to ${process.hrtime.bigint() / 1000n} (monotonic us)`);
    const [a, b] = targets;
    if (b)
      console.log(
        `median server CPU per session: baseline ${median(a!.serverUsPerSession).toFixed(0)} us, aps ${median(b.serverUsPerSession).toFixed(0)} us: ratio ${(median(b.serverUsPerSession) / median(a!.serverUsPerSession)).toFixed(2)}`,
      );
    console.log(`machine after: ${machineNote()}`);
    workers.forEach((w) => w.proc.send({ quit: true }));
    for (const t of targets) await stop(t.server);
  },
  180 + 3 * seconds * Number(opt.rounds) * (opt.baseline ? 2 : 1),
);
