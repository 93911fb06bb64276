// AudioCodes ini requests per second: APS (`GET /audiocodes/<MAC>.ini`, answered 200 with the device's ini)
// against one express 5 route and a bare node:http server answering the same bytes with the same headers,
// same load generator (autocannon, in this process), alternating rounds in the same run. Each request
// carries the gateway's own User-Agent (with its MAC and firmware version), as the real gateway sends it.
//
//   node --import tsx bench/ini-rps.ts [--devices 1000] [--gateways 200] [--connections 50] [--duration 5] [--rounds 2]
//
// Loopback only. Stops by itself; kills its children and removes its temp folder on exit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nthMac } from '../adapters/innovaphone/simulator-command.ts';
import { HOST, aps, machineNote, mib, procMemory, runBench, startAps, startBare, stop, tempDir } from './lib/harness.ts';
import { alternatingRounds, fmt, printSummary } from './lib/rps-rounds.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    gateways: { type: 'string', default: '200' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
  },
});
const DEVICES = Number(args.devices);
const GATEWAYS = Math.min(Number(args.gateways), DEVICES);
const CONNECTIONS = Number(args.connections);
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const FIRST_MAC = '00908f100000';
const FIRMWARE = '6.60A.360.002';

const macOf = (i: number): string => nthMac(FIRST_MAC, i);

async function main(): Promise<void> {
  const dir = tempDir('aps-bench-ini-');
  const data = join(dir, 'data');
  console.log(
    `ini-rps: ${DEVICES} AudioCodes MP-124 gateways registered, ${GATEWAYS} asking; autocannon ${CONNECTIONS} connections x ${DURATION} s (after 1 s warm-up), ${ROUNDS} rounds alternating APS / bare / express`,
  );
  const rows = ['devices:'];
  for (let i = 0; i < DEVICES; i++) rows.push(`  - { id: gw${i}, profile: audiocodes-mp124, mac: '${macOf(i)}' }`);
  writeFileSync(join(dir, 'site.yaml'), rows.join('\n') + '\n');
  let t = performance.now();
  const applied = (await aps(['apply', join(dir, 'site.yaml')], data, dir)).trim().split('\n').at(-1);
  console.log(`set-up: ${applied} (${((performance.now() - t) / 1000).toFixed(1)} s)`);

  console.log(`machine: ${machineNote()}`);
  const server = await startAps(data, dir);
  // The last GATEWAYS gateways, each with its MAC in the file name and in the User-Agent (they must agree).
  const requests = Array.from({ length: GATEWAYS }, (_, k) => {
    const mac = macOf(DEVICES - GATEWAYS + k);
    return {
      path: `/audiocodes/${mac}.ini`,
      headers: { 'user-agent': `Mozilla/4.0 (compatible; AudioCodes; MP-124;${FIRMWARE};${mac.toUpperCase()};)` },
    };
  });

  // First request of each gateway: checks the answer (200, one content type, one size for all: the shipped
  // template renders the same length for every MAC), and renders each ini once, as a poll after a change does.
  t = performance.now();
  let body: Buffer | undefined;
  let contentType: string | undefined;
  for (const r of requests) {
    const res = await fetch(`http://${HOST}:${server.port}${r.path}`, { headers: r.headers });
    const b = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`${r.path}: APS answered ${res.status}`);
    contentType ??= res.headers.get('content-type') ?? '';
    if (res.headers.get('content-type') !== contentType) throw new Error(`${r.path}: content type ${res.headers.get('content-type')}`);
    if (body && b.length !== body.length) throw new Error(`${r.path}: ${b.length} bytes, another gateway got ${body.length}`);
    body ??= b;
  }
  const firstS = (performance.now() - t) / 1000;
  console.log(
    `first request of ${GATEWAYS} gateways (one render each): ${firstS.toFixed(2)} s, ${fmt(GATEWAYS / firstS, 1)} req/s; ini ${body!.length} bytes, ${contentType}`,
  );

  const iniFile = join(dir, 'gateway.ini');
  writeFileSync(iniFile, body!);
  const bare = await startBare('static', iniFile, contentType!);
  const exp = await startBare('express', iniFile, contentType!, '/audiocodes');
  const summaries = await alternatingRounds([server, bare, exp], {
    connections: CONNECTIONS,
    duration: DURATION,
    rounds: ROUNDS,
    requests,
  });
  await Promise.all([stop(bare), stop(exp)]);
  printSummary(
    summaries,
    'aps',
    `means of ${ROUNDS} runs each; ${body!.length}-byte body, ${GATEWAYS} gateways, ${CONNECTIONS} connections`,
  );
  const mem = procMemory(server.pid);
  if (mem) console.log(`APS server memory after the runs: VmRSS ${mib(mem.rss)}, VmHWM ${mib(mem.hwm)}`);
  await stop(server);
  console.log(`machine after: ${machineNote()}`);
}

await runBench(main, 300);
