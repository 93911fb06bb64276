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
import {
  HOST,
  machineNote,
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
} from './lib/harness.ts';
import { alternatingRounds, fmt, printSummary } from './lib/rps-rounds.ts';

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

  const summaries = await alternatingRounds([server, bare, exp], {
    connections: CONNECTIONS,
    duration: DURATION,
    rounds: ROUNDS,
    requests: paths.map((path) => ({ path })),
  });
  await Promise.all([stop(bare), stop(exp)]);
  printSummary(summaries, 'aps', `means of ${ROUNDS} runs each; ${body!.length}-byte body, ${USERS} users, ${CONNECTIONS} connections`);
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
