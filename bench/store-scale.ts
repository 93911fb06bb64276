// Does a big store slow a device down? The same devices of every adapter (the storm's mix) against two APS
// servers up at once: one whose store holds just them (--small, 100), one whose store holds them and
// enough idle devices of every adapter to make --large (100,000). After each device's first cycle against
// both, steady checks (VOP cycle, innovaphone poll, Avaya boot chain, AudioCodes check, a TR-069 periodic
// session) run in windows of --window-s seconds, alternating small/large in ABBA order for --rounds, so the
// machine's other load falls on both alike. Prints per adapter the checks and their p50/p99 per store, and
// per store the device requests (aps_device_requests_total) and server CPU per request; then the ratios
// large / small. No assertions.
//
//   node --import tsx bench/store-scale.ts [--small 100] [--large 100000] [--window-s 5] [--rounds 4] [--concurrency 20]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { aps, HOST, machineNote, mib, percentile, procCpuMs, procMemory, runBench, startAps, tempDir } from './lib/harness.ts';
import { SIM_KINDS, simDevice, type SimDevice, type SimKind } from './lib/sim-devices.ts';
import { STORM_FIRST, STORM_PASSWORD, stormCounts, writeStormSite } from './lib/storm-site.ts';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '100' },
    large: { type: 'string', default: '100000' },
    'window-s': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '20' },
  },
});
const counts = stormCounts(Number(values.small));
const measured = SIM_KINDS.reduce((s, k) => s + counts[k], 0);
const large = Math.max(Number(values.large), measured);
const windowMs = Number(values['window-s']) * 1000;
const concurrency = Number(values.concurrency);

interface Store {
  name: 'small' | 'large';
  pid: number;
  base: string;
  devices: Array<{ kind: SimKind; check: SimDevice }>;
  /** ms per check, per adapter, over every window. */
  ms: Record<SimKind, number[]>;
  failed: number;
  requests: number;
  cpuMs: number;
}

async function deviceRequests(base: string): Promise<number> {
  const metrics = await (await fetch(`${base}/metrics`)).text();
  return [...metrics.matchAll(/^aps_device_requests_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
}

/** One window: `concurrency` workers take the store's devices in turn and run a check each, until time is up. */
async function window(s: Store): Promise<void> {
  const req0 = await deviceRequests(s.base);
  const cpu0 = procCpuMs(s.pid);
  const end = performance.now() + windowMs;
  let next = Math.floor(Math.random() * s.devices.length);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const d = s.devices[next++ % s.devices.length]!;
        const t = performance.now();
        const r = await d.check();
        if (!r.ok) s.failed++;
        else s.ms[d.kind].push((performance.now() - t) / Math.max(1, r.requests));
      }
    }),
  );
  s.cpuMs += procCpuMs(s.pid) - cpu0;
  s.requests += (await deviceRequests(s.base)) - req0;
}

await runBench(async () => {
  console.log(
    `store-scale: ${measured} devices ${JSON.stringify(counts)} against a store of ${measured} and one of ${large}; ${machineNote()}`,
  );
  const stores: Store[] = [];
  for (const [name, idle] of [
    ['small', 0],
    ['large', large - measured],
  ] as const) {
    const dir = tempDir(`aps-bench-scale-${name}-`);
    const site = writeStormSite(dir, counts, idle, 16 * 1024);
    const t = performance.now();
    await aps(['apply', site.file], join(dir, 'data'), dir);
    console.log(`set-up ${name}: aps apply of ${measured + idle} devices in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const server = await startAps(join(dir, 'data'), dir);
    const base = `http://${HOST}:${server.port}`;
    const devices = SIM_KINDS.flatMap((kind) =>
      Array.from({ length: counts[kind] }, (_, i) => ({
        kind,
        check: simDevice(kind, i, { url: base, first: STORM_FIRST[kind], password: STORM_PASSWORD, stateDir: join(dir, 'sim', kind) }),
      })),
    );
    stores.push({
      name,
      pid: server.pid,
      base,
      devices,
      ms: { vop: [], tr069: [], innovaphone: [], avaya: [], audiocodes: [] },
      failed: 0,
      requests: 0,
      cpuMs: 0,
    });
    // The first cycle (firmware, config, TransferCompletes): not measured; after it every check is steady.
    const first = await Promise.all(devices.map((d) => d.check()));
    const bad = first.filter((r) => !r.ok);
    if (bad.length > 0) throw new Error(`${name}: ${bad.length} first cycles failed, e.g. ${bad[0]!.error}`);
  }
  const [small, large_] = stores as [Store, Store];
  for (let r = 0; r < Number(values.rounds); r++) {
    // ABBA: each store is measured first as often as second.
    for (const s of r % 2 === 0 ? [small, large_, large_, small] : [large_, small, small, large_]) await window(s);
  }
  const p = (a: number[], q: number): number =>
    percentile(
      [...a].sort((x, y) => x - y),
      q,
    );
  console.log(
    `steady checks, ${values.rounds} rounds of ABBA windows of ${values['window-s']} s, ${concurrency} devices at once (ms a request: a check's time / its requests):`,
  );
  for (const k of SIM_KINDS) {
    const [a, b] = [small.ms[k], large_.ms[k]];
    console.log(
      `  ${k.padEnd(12)} small: ${String(a.length).padStart(6)} checks p50 ${p(a, 0.5).toFixed(2)} ms p99 ${p(a, 0.99).toFixed(2)} ms | large: ${String(b.length).padStart(6)} checks p50 ${p(b, 0.5).toFixed(2)} ms p99 ${p(b, 0.99).toFixed(2)} ms | p50 ratio ${(p(b, 0.5) / p(a, 0.5)).toFixed(3)}`,
    );
  }
  const all = (s: Store): number[] => SIM_KINDS.flatMap((k) => s.ms[k]);
  for (const s of stores)
    console.log(
      `  ${s.name.padEnd(5)} store: ${s.requests} device requests, ${s.failed} failed checks, p50 ${p(all(s), 0.5).toFixed(2)} ms a request, server CPU ${Math.round((s.cpuMs * 1000) / Math.max(1, s.requests))} µs a request, VmHWM ${mib(procMemory(s.pid)?.hwm ?? 0)}`,
    );
  console.log(
    `ratio large / small: p50 a request ${(p(all(large_), 0.5) / p(all(small), 0.5)).toFixed(3)}, server CPU a request ${(large_.cpuMs / large_.requests / (small.cpuMs / small.requests)).toFixed(3)} (goal: within 10 %); ${machineNote()}`,
  );
}, 1800);
