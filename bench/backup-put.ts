// Device backups: chunked PUTs over real HTTP into the BackupStore (what an adapter's PUT route does),
// reading and diffing large backups, and what the leftover scan costs every process that opens the data
// folder. In one process, on 127.0.0.1. Prints figures; asserts nothing about time.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { ADAPTERS } from '../adapters/index.ts';
import { loadConfig } from '../src/config.ts';
import { openCore, type Core } from '../src/core.ts';
import { createLogger } from '../src/log.ts';
import { HOST, machineNote, runBench, tempDir } from './lib/harness.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const PUTS = arg('puts', 2000);
const CONCURRENCY = arg('concurrency', 20);
const DEVICES = arg('devices', 1000);
const KEEP = arg('keep', 20);

function open(dataDir: string): Core {
  const config = loadConfig({
    env: {},
    file: undefined,
    overrides: { dataDir, logLevel: 'silent', backups: { keep: KEEP, maxBytes: 8 << 20 } },
  });
  return openCore(config, ADAPTERS, createLogger('silent'));
}

/** A config of about `bytes` that differs per (device, n): what an innovaphone box uploads, roughly. */
function config(device: string, n: number, bytes = 20_000): Buffer {
  const lines: string[] = [`vars create UPDATE/CHECK p ${n}`];
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = `config add SIP${i % 8} /user ${device} /key k${i} /n ${i % 500 === 7 ? n : 0}`;
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(lines.join('\r\n'));
}

function put(port: number, path: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: HOST, port, method: 'PUT', path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    // Chunked, as innovaphone sends it: several writes, no Content-Length.
    for (let i = 0; i < body.length; i += 4096) req.write(body.subarray(i, i + 4096));
    req.end();
  });
}

async function main(): Promise<void> {
  console.log(machineNote());
  const dataDir = tempDir('aps-bench-backups-');
  let core = open(dataDir);
  for (let d = 0; d < DEVICES; d++) core.devices.upsert({ id: `dev${d}`, profile: 'vop' }, 'create');
  const server = createServer((req, res) => {
    const device = req.url!.slice(1);
    core.backups.put(req, { deviceId: device, name: `${device}.txt` }).then(
      (r) => res.writeHead(r.created ? 201 : 200).end(),
      () => res.writeHead(500, { connection: 'close' }).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as AddressInfo).port;

  const bodies = Array.from({ length: PUTS }, (_, i) => config(`dev${i % DEVICES}`, i));
  let next = 0;
  const statuses = new Map<number, number>();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PUTS) {
        const i = next++;
        const s = await put(port, `/dev${i % DEVICES}`, bodies[i]!);
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `${PUTS} chunked PUTs of ~${bodies[0]!.length} B, ${CONCURRENCY} at once, ${DEVICES} devices: ${(PUTS / secs).toFixed(0)} PUT/s ` +
      `(${secs.toFixed(2)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))})`,
  );

  const t1 = performance.now();
  const retries = Math.min(200, PUTS);
  for (let i = 0; i < retries; i++) await put(port, `/dev${(PUTS - 1 - i) % DEVICES}`, bodies[PUTS - 1 - i]!);
  console.log(
    `identical retries (idempotent, nothing stored): ${(retries / ((performance.now() - t1) / 1000)).toFixed(0)} PUT/s sequential`,
  );

  const big = [config('big', 1, 1 << 20), config('big', 2, 1 << 20)];
  core.devices.upsert({ id: 'big', profile: 'vop' }, 'create');
  const t2 = performance.now();
  for (const b of big) await core.backups.put(Readable.from([b]), { deviceId: 'big', name: 'big.txt' });
  console.log(`two 1 MiB backups stored in ${(performance.now() - t2).toFixed(0)} ms`);
  const t3 = performance.now();
  core.backups.read('big', 1);
  const t4 = performance.now();
  const diff = core.backups.diff('big', 1, 2, [/^vars create UPDATE\//]);
  console.log(
    `read (open sealed) 1 MiB: ${(t4 - t3).toFixed(1)} ms; diff of the two 1 MiB backups (${diff.split('\n').length} lines): ${(performance.now() - t4).toFixed(0)} ms`,
  );

  await new Promise((r) => server.close(r));
  core.close();
  const rows = Math.min(PUTS, DEVICES * KEEP);
  const t5 = performance.now();
  core = open(dataDir);
  console.log(
    `opening the data folder again (leftover scan over ${rows} backups in ${DEVICES} folders): ${(performance.now() - t5).toFixed(0)} ms`,
  );
  core.close();
}

await runBench(main, 300);
