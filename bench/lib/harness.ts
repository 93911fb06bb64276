// Shared plumbing of the benchmarks: a temp folder, free loopback ports, child servers (APS and the bare
// node:http baselines) that are always killed on exit, fleet set-up through `aps apply`, and RSS sampling.
// Loopback only: every address here is 127.0.0.1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEMI_SPACE_FLAG } from '../../src/cli/heap-flags.ts';

export const HOST = '127.0.0.1';
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const APS_BIN = join(ROOT, 'bin', 'aps.js');
const BARE_SERVER = join(ROOT, 'bench', 'lib', 'bare-server.ts');

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** Kills every child still running and removes every temp folder; safe to call more than once. */
export function cleanup(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  children.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

process.once('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    cleanup();
    process.exit(130);
  });
}

/** Runs the benchmark body; whatever happens, children are killed and temp folders removed. */
export async function runBench(main: () => Promise<void>, maxSeconds: number): Promise<void> {
  // A hard stop in case something hangs: the benchmark must always end by itself.
  const guard = setTimeout(() => {
    console.error(`bench: still running after ${maxSeconds} s; giving up`);
    cleanup();
    process.exit(2);
  }, maxSeconds * 1000);
  guard.unref();
  try {
    await main();
  } catch (e) {
    console.error('bench failed:', e instanceof Error ? e.message : e);
    process.exitCode = 1;
  } finally {
    await stopAll();
    cleanup();
    clearTimeout(guard);
  }
}

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, HOST, () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** A file of random bytes, written in 1 MiB chunks (no big buffer in this process either). */
export function randomFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    const chunk = randomBytes(1 << 20);
    for (let left = bytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  } finally {
    closeSync(fd);
  }
}

/** The environment of APS children: no APS_* leaking in from the caller's shell. */
function apsEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('APS_')) env[k] = v;
  return { ...env, APS_LOG_LEVEL: 'warn', ...extra };
}

/**
 * Runs an `aps` command to completion; resolves with its stdout, rejects on a non-zero exit. `bin`: another
 * build's bin/aps.js (a baseline checkout).
 */
export function aps(args: string[], dataDir: string, cwd: string, bin = APS_BIN): Promise<string> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, [bin, ...args], { cwd, env: apsEnv({ APS_DATA: dataDir }), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(c);
    let out = '';
    let err = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', rej);
    c.on('close', (code) => {
      children.delete(c);
      if (code === 0) res(out);
      else rej(new Error(`aps ${args.join(' ')} exited ${code}: ${(err || out).trim().slice(-2000)}`));
    });
  });
}

export interface FleetOptions {
  dir: string;
  dataDir: string;
  /** Device ids `${prefix}1..${prefix}N`, all with the same password (the simulator uses one for all). */
  prefix: string;
  count: number;
  password: string;
  firmware: string;
  firmwareSerial: number;
}

/**
 * Creates the fleet with `aps apply`: first the firmware artifact (which also creates the database), then the
 * devices in one file (a keyed password hash costs microseconds: no need to split the work any more, and two
 * concurrent applies of 50,000 devices each would wait on each other's write lock past the busy timeout).
 */
export async function applyFleet(o: FleetOptions): Promise<string[]> {
  const art = join(o.dir, 'artifacts.yaml');
  writeFileSync(
    art,
    `artifacts:\n  - { file: ${JSON.stringify(o.firmware)}, profile: vop, kind: firmware, serial: ${o.firmwareSerial} }\n`,
  );
  const lines = [(await aps(['apply', art], o.dataDir, o.dir)).trim()];
  const file = join(o.dir, 'fleet.yaml');
  const rows = ['devices:\n'];
  for (let i = 1; i <= o.count; i++)
    rows.push(`  - { id: ${o.prefix}${i}, profile: vop, model: VOP, password: ${JSON.stringify(o.password)} }\n`);
  writeFileSync(file, rows.join(''));
  // The last line is the summary; the per-device lines would fill the screen.
  lines.push((await aps(['apply', file], o.dataDir, o.dir)).trim().split('\n').at(-1)!);
  return lines;
}

export interface ChildServer {
  name: string;
  pid: number;
  port: number;
  proc: ChildProcess;
  /** Last lines of its stderr, for a failure message. */
  stderrTail(): string;
}

function track(name: string, proc: ChildProcess): { tail: () => string } {
  children.add(proc);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  proc.on('exit', () => children.delete(proc));
  proc.on('error', (e) => console.error(`${name}: ${e.message}`));
  return { tail: () => err.trim() };
}

/** `aps serve` in its own process on free loopback ports, no FTP; resolves once /healthz answers. `bin` as for aps(). */
export async function startAps(
  dataDir: string,
  cwd: string,
  bin = APS_BIN,
): Promise<ChildServer & { httpsPort: number; adminToken: string }> {
  const [port, httpsPort] = [await freePort(), await freePort()];
  const adminToken = randomBytes(24).toString('base64url');
  // APS_BENCH_NODE_ARGS: node flags for the server under test, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`,
  // after the flag `npm start` passes (V8 takes the last of a repeated flag).
  const nodeArgs = process.env.APS_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [SEMI_SPACE_FLAG, ...nodeArgs, bin, 'serve', '--host', HOST, '--no-ftp'], {
    cwd,
    env: apsEnv({
      APS_DATA: dataDir,
      APS_HTTP_PORT: String(port),
      APS_HTTPS_PORT: String(httpsPort),
      APS_PUBLIC_URL: `http://${HOST}:${port}`,
      APS_ADMIN_TOKEN: adminToken,
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const t = track('aps', proc);
  await waitFor(`http://${HOST}:${port}/healthz`, proc, t.tail, 30_000);
  return { name: 'aps', pid: proc.pid!, port, httpsPort, adminToken, proc, stderrTail: t.tail };
}

/**
 * The bare node:http baseline in its own process. mode `static`: answers every request with the bytes of
 * `file` (read once) and the same headers APS sends; mode `express`: the same from one express route on a
 * router mounted at `mount` (an adapter's prefix); mode `stream`: `fs.createReadStream(file).pipe(res)`.
 */
export async function startBare(
  mode: 'static' | 'express' | 'stream',
  file: string,
  contentType: string,
  mount = '/vop',
): Promise<ChildServer> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', BARE_SERVER, mode, file, String(port), contentType, mount], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const t = track('bare', proc);
  await waitFor(`http://${HOST}:${port}/`, proc, t.tail, 30_000);
  return { name: mode === 'express' ? 'express' : 'bare', pid: proc.pid!, port, proc, stderrTail: t.tail };
}

/** Debian's nginx binary, or undefined when it is not installed. */
export function nginxBinary(): string | undefined {
  return ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);
}

/**
 * nginx in its own process on a free loopback port, one worker, sendfile on, no access log: `site` is the
 * body of the http{} block after `listen` (e.g. `root /some/folder;`). The baseline for byte serving.
 */
export async function startNginx(site: (port: number) => string, dir: string): Promise<ChildServer> {
  const bin = nginxBinary();
  if (!bin) throw new Error('nginx is not installed (apt-get install -y nginx-light)');
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((x) => `${x}_temp_path ${join(dir, x)};`).join(' ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;' : ''} worker_processes 1; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')};
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; default_type application/octet-stream; ${temp}
${site(port)}
}\n`,
  );
  const proc = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const t = track('nginx', proc);
  await waitFor(`http://${HOST}:${port}/`, proc, t.tail, 10_000);
  // The worker serves; its pid is the one to read CPU and memory of.
  const worker = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  return { name: 'nginx', pid: worker || proc.pid!, port, proc, stderrTail: t.tail };
}

async function waitFor(url: string, proc: ChildProcess, tail: () => string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`server exited (${proc.exitCode ?? proc.signalCode}) before answering: ${tail()}`);
    try {
      const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no answer from ${url} within ${ms} ms: ${tail()}`);
}

/** SIGTERM, then SIGKILL after 3 s; resolves when the process is gone. */
export function stop(s: ChildServer): Promise<void> {
  const p = s.proc;
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const kill = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.once('exit', () => {
      clearTimeout(kill);
      res();
    });
    p.kill('SIGTERM');
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (proc) =>
        new Promise<void>((res) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return res();
          const kill = setTimeout(() => proc.kill('SIGKILL'), 3000);
          proc.once('exit', () => {
            clearTimeout(kill);
            res();
          });
          proc.kill('SIGTERM');
        }),
    ),
  );
}

/** VmRSS / VmHWM of a process, in bytes (Linux /proc); undefined once the process is gone. */
export function procMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the peak and the sample count. */
export function sampleRss(pid: number, everyMs = 100): { stop(): { peak: number; samples: number } } {
  let peak = 0;
  let samples = 0;
  const tick = (): void => {
    const m = procMemory(pid);
    if (m) {
      peak = Math.max(peak, m.rss);
      samples++;
    }
  };
  tick();
  const t = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(t);
      tick();
      return { peak, samples };
    },
  };
}

export const mib = (n: number): string => `${(n / (1 << 20)).toFixed(1)} MiB`;

export function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
}

/** The machine's state, printed with the figures: other work on a 2-core box moves them a lot. */
export function machineNote(): string {
  return `${cpus().length} CPUs, load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}, node ${process.version}`;
}

/** CPU time (user + system, all threads) a process has used so far, in ms (Linux /proc, 100 ticks/s). */
export function procCpuMs(pid: number): number {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime (fields 14 and 15)
  } catch {
    return NaN;
  }
}
