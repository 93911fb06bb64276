// Wrong-password floods: what they cost the devices that log in correctly, and whether response times tell
// which user names exist. One APS child with one VOP user and a 16 MiB firmware:
//   1. baseline: that user downloads the firmware R times, one after the other (median time);
//   2. the same downloads while W clients keep sending info requests with wrong passwords (each a new
//      password, so none is refused from memory), ratio to the baseline;
//   3. the time of a wrong password for the existing user against one for an unknown user, ratio;
//   4. the guessing rate the failure tracking allows per device (issue 13): how many of the flood's wrong
//      passwords were really checked (`aps access locks`), and the schedule the configured back-off and
//      lock give an attacker who keeps going (its settings: the defaults, `access` in aps.yaml).
// The flood attacks a second user (flood2): the downloader (flood1) shares the loopback address, which
// aps.yaml here exempts from per-address tracking as a site does for a NAT it trusts.
//
//   node --import tsx bench/auth-flood.ts [W=200] [--rounds 10]
//
// Loopback only. Stops by itself; kills its child and removes its temp folder on exit.
import { writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configSchema } from '../src/config.ts';
import { HOST, aps as apsCommand, applyFleet, machineNote, percentile, randomFile, runBench, startAps, tempDir } from './lib/harness.ts';

const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '10' } } });
const W = Number(positionals[0] ?? 200);
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(W) || W < 1 || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('usage: auth-flood.ts [W] [--rounds R]');
  process.exit(64);
}

// A new connection per request: a kept-alive socket the server closes meanwhile would fail a request.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

function timedGet(port: number, path: string): Promise<{ ms: number; status: number; bytes: number }> {
  return new Promise((res, rej) => {
    const t = performance.now();
    const req = get({ host: HOST, port, path, agent }, (r) => {
      let bytes = 0;
      r.on('data', (c: Buffer) => (bytes += c.length));
      r.on('end', () => res({ ms: performance.now() - t, status: r.statusCode ?? 0, bytes }));
      r.on('error', rej);
    });
    req.on('error', rej);
  });
}

const median = (xs: number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

async function downloads(port: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await timedGet(port, '/vop/f?u=flood1&p=bench-pw');
    if (r.status !== 200 || r.bytes !== 16 << 20) throw new Error(`download answered ${r.status} with ${r.bytes} bytes`);
    times.push(r.ms);
  }
  return times;
}

await runBench(async () => {
  const dir = tempDir('aps-bench-auth-');
  const fw = join(dir, 'fw.bin');
  randomFile(fw, 16 << 20);
  writeFileSync(join(dir, 'aps.yaml'), 'access:\n  exemptNetworks: "127.0.0.0/8 ::1"\n');
  await applyFleet({ dir, dataDir: join(dir, 'data'), prefix: 'flood', count: 2, password: 'bench-pw', firmware: fw, firmwareSerial: 1 });
  const aps = await startAps(join(dir, 'data'), dir);
  console.log(`auth-flood: W=${W} wrong-password clients, ${ROUNDS} downloads of 16 MiB per phase; ${machineNote()}`);

  await downloads(aps.port); // warm-up: first scrypt, page cache
  const base = await downloads(aps.port);

  let flooding = true;
  let refused = 0;
  let n = 0;
  const attacker = async (): Promise<void> => {
    while (flooding) {
      const r = await timedGet(aps.port, `/vop/i?u=flood2&p=wrong-${n++}`).catch(() => undefined);
      if (r?.status === 401) refused++;
    }
  };
  const attackers = Array.from({ length: W }, attacker);
  const floodStart = performance.now();
  await new Promise((r) => setTimeout(r, 500));
  const during = await downloads(aps.port);
  flooding = false;
  await Promise.all(attackers);
  const floodSeconds = (performance.now() - floodStart) / 1000;
  const locks = JSON.parse(await apsCommand(['access', 'locks', '--json'], join(dir, 'data'), dir)) as Array<{
    subject: string;
    failures: number;
  }>;
  const checked = locks.find((l) => l.subject === 'flood2')?.failures ?? 0;

  const wrongUser: number[] = [];
  const wrongPassword: number[] = [];
  for (let i = 0; i < 20; i++) {
    wrongPassword.push((await timedGet(aps.port, `/vop/i?u=flood1&p=probe-${i}`)).ms);
    wrongUser.push((await timedGet(aps.port, `/vop/i?u=nobody${i}&p=probe-${i}`)).ms);
  }

  const b = median(base);
  const d = median(during);
  console.log(`download median, quiet:            ${b.toFixed(1)} ms`);
  console.log(
    `download median, during the flood: ${d.toFixed(1)} ms  (ratio ${(d / b).toFixed(2)}; ${refused} wrong-password requests refused meanwhile)`,
  );
  const wp = median(wrongPassword);
  const wu = median(wrongUser);
  console.log(
    `refusal median: wrong password ${wp.toFixed(1)} ms, unknown user ${wu.toFixed(1)} ms  (ratio ${(wu / wp).toFixed(2)}; 1.00 = no oracle)`,
  );
  console.log(
    `guesses checked for the attacked device: ${checked} of ${n} sent in ${floodSeconds.toFixed(1)} s ` +
      '(the rest refused unchecked, at the cost of a check)',
  );
  const s = schedule();
  console.log(
    `allowed by the guard's settings, per device, for an attacker who never stops: ${s.free} at once, ` +
      `${s.beforeLock} by ${s.lockAt.toFixed(0)} s (then locked ${s.lockSeconds} s), ${s.hour} in the first hour, ${s.day} per day ` +
      `(steady state 1 per ${s.lockSeconds} s = ${(3600 / s.lockSeconds).toFixed(1)}/hour)`,
  );
}, 600);

/**
 * The most guesses a device's failure tracking lets through, from the configured (here: default) settings:
 * free tries at once, then one per back-off (doubling up to its maximum) until the lock, then one per lock.
 */
function schedule(): { free: number; beforeLock: number; lockAt: number; lockSeconds: number; hour: number; day: number } {
  const a = configSchema.parse({}).access;
  const times: number[] = [];
  let t = 0;
  for (let f = 0; f < a.device.lockAfter; f++) {
    if (f >= a.device.freeFailures) t += Math.min(a.maxBackoffSeconds, a.backoffSeconds * 2 ** (f - a.device.freeFailures));
    times.push(t);
  }
  const lockAt = t;
  const within = (limit: number): number =>
    times.filter((x) => x <= limit).length + Math.max(0, Math.floor((limit - lockAt) / a.lockSeconds));
  return {
    free: a.device.freeFailures,
    beforeLock: a.device.lockAfter,
    lockAt,
    lockSeconds: a.lockSeconds,
    hour: within(3600),
    day: within(86_400),
  };
}
