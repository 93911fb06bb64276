// Review 12 finding 2: starting a rollout wrote one row per device and read the next device's previous target
// after it, so every row rebuilt the catalog's rollout view (quadratic: 1,000 devices 8.8 s, 5,000 170 s).
// Prints `aps rollout start` time for each fleet size against a baseline in the same run: the same start
// with the store generation frozen (no cache ever rebuilt), the cost floor the reviewer measured (0.16 s).
// In-process, from the sources: node --import tsx bench/rollout-start.ts [sizes, default 1000,5000]
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTERS } from '../adapters/index.ts';
import { loadConfig } from '../src/config.ts';
import { openCore } from '../src/core.ts';
import { createLogger } from '../src/log.ts';
import { startRollout } from '../src/rollouts/rollouts.ts';
import { manualProfiles } from '../test/helpers/rollouts.ts';
import { tempDir } from '../test/helpers/server.ts';

const sizes = (process.argv[2] ?? '1000,5000').split(',').map(Number);
const profilesDir = manualProfiles(['vop']);

/** Milliseconds one startRollout takes over n devices (fresh data folder); `frozen`: generation held still. */
async function startMs(n: number, frozen: boolean): Promise<number> {
  const dir = tempDir('aps-bench-rollout-');
  const core = openCore(loadConfig({ env: {}, overrides: { dataDir: join(dir, 'data'), profilesDir } }), ADAPTERS, createLogger('silent'));
  try {
    core.store.transaction(() => {
      for (let i = 0; i < n; i++) core.devices.upsert({ id: `d${i}`, profile: 'vop' });
    });
    writeFileSync(join(dir, 'fw.bin'), 'x');
    const { artifact } = await core.catalog.add(
      { path: join(dir, 'fw.bin') },
      { profile: 'vop', kind: 'firmware', version: '2', filename: 'fw.bin' },
    );
    if (frozen) {
      const g = core.store.state.generation();
      core.store.state.generation = (): number => g;
    }
    const t = performance.now();
    const r = startRollout(core, { artifactId: artifact.id, stages: [100] }, 'bench');
    const ms = performance.now() - t;
    if (r.counts.devices !== n) throw new Error(`the rollout selected ${r.counts.devices} of ${n} devices`);
    return ms;
  } finally {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await startMs(200, false); // warm-up: JIT and module loading are no part of either figure
for (const n of sizes) {
  // Best of two of each, alternating: the shared machine's load moves single runs a lot.
  const base = Math.min(await startMs(n, true), await startMs(n, true));
  const ms = Math.min(await startMs(n, false), await startMs(n, false));
  console.log(
    `rollout start, ${n} devices: ${ms.toFixed(0)} ms; generation frozen (baseline): ${base.toFixed(0)} ms; ratio ${(ms / base).toFixed(2)}`,
  );
}
rmSync(profilesDir, { recursive: true, force: true });
