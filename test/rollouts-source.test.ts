import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADAPTERS } from '../adapters/index.ts';
import { loadConfig } from '../src/config.ts';
import { openCore, type Core } from '../src/core.ts';
import { createLogger } from '../src/log.ts';
import { rolloutSourceHooks } from '../src/rollouts/source-hook.ts';
import { listRollouts, rolloutStatus } from '../src/rollouts/rollouts.ts';
import { assertSourceProfiles, sourceRunner } from '../src/sources/sync.ts';
import { hashSelected, manualProfiles } from './helpers/rollouts.ts';
import { tempDir } from './helpers/server.ts';
import { coreWithSource } from './helpers/sources.ts';

// A source with `rollout:` starts a staged rollout of each artifact a sync adds, through the engine the
// process connects (rolloutSourceHooks: the server's schedules and API, and `aps sync`).
describe('a source that feeds a rollout', () => {
  let core: Core;
  const ids = ['op1', 'op2', 'op3', 'op4', 'op5', 'op6'];

  before(() => {
    const dir = tempDir('aps-rollout-source-');
    const up = join(dir, 'up');
    mkdirSync(up);
    writeFileSync(join(up, 'vop-5.0.bin'), 'five');
    core = coreWithSource(dir, {
      name: 'mirror',
      type: 'folder',
      path: up,
      map: [{ pattern: 'vop-(?<version>[\\d.]+)\\.bin', profile: 'vop', kind: 'firmware' }],
      rollout: { stages: [50, 100], maxFailures: '5%', timeout: '1d' },
    });
    for (const id of ids) core.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
  });
  after(() => core.close());

  it('a new upstream build becomes a candidate with its own rollout at the first stage', async () => {
    const run = await sourceRunner(core, rolloutSourceHooks(core)).run(core.config.sources[0]!, { trigger: 'cli', who: 'test' });
    assert.equal(run.error, undefined);
    const added = run.files.filter((f) => f.status === 'added').map((f) => f.artifactId!);
    assert.equal(added.length, 1);
    const [r] = listRollouts(core);
    assert.equal(r?.artifactId, added[0]);
    assert.deepEqual([r!.stages, r!.maxFailures, r!.timeoutSeconds, r!.state], [[50, 100], '5%', 86_400, 'running']);
    assert.deepEqual(
      rolloutStatus(core, r!.id).devices.map((d) => d.deviceId),
      hashSelected(r!.id, ids, 50),
    );
  });
});

describe('a source with rollout: on a profile under release: auto (review 12, finding 4)', () => {
  const open = (source: Record<string, unknown>): Core => {
    const dir = tempDir('aps-rollout-source-auto-');
    const up = join(dir, 'up');
    mkdirSync(up);
    writeFileSync(join(up, 'vop-5.0.bin'), 'five');
    writeFileSync(join(up, 'manifest.yaml'), 'files:\n  - { file: vop-5.0.bin, profile: vop, kind: firmware, version: "5.0" }\n');
    const core = openCore(
      loadConfig({
        env: {},
        overrides: {
          dataDir: join(dir, 'data'),
          profilesDir: manualProfiles([]),
          sources: [
            { name: 'mirror', type: 'folder', path: up, rollout: { stages: [10, 100], maxFailures: '5%', timeout: '1d' }, ...source },
          ],
        },
      }),
      ADAPTERS,
      createLogger('silent'),
    );
    for (const id of ['s1', 's2', 's3']) core.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
    return core;
  };

  it('is refused at start-up when the config names the profile', () => {
    const core = open({ map: [{ pattern: 'vop-(?<version>[\\d.]+)\\.bin', profile: 'vop', kind: 'firmware' }] });
    try {
      assert.throws(() => assertSourceProfiles(core), /sources\.0\.map\.0\.profile: profile "vop" is release: auto.*needs release: manual/);
    } finally {
      core.close();
    }
  });

  it('adds nothing when a manifest names it: a new upstream build never reaches every device at once', async () => {
    const core = open({ manifest: 'manifest.yaml' });
    try {
      assertSourceProfiles(core); // the manifest's profiles are only known when it is read
      const run = await sourceRunner(core, rolloutSourceHooks(core)).run(core.config.sources[0]!, { trigger: 'cli', who: 'test' });
      assert.deepEqual(
        run.files.map((f) => [f.file, f.status]),
        [['vop-5.0.bin', 'failed']],
      );
      assert.match(run.files[0]!.reason!, /profile "vop" is release: auto/);
      assert.deepEqual(core.catalog.list('vop'), []);
      assert.deepEqual(
        ['s1', 's2', 's3'].map((id) => core.catalog.target(core.devices.get(id)!, 'firmware')),
        [undefined, undefined, undefined],
      );
    } finally {
      core.close();
    }
  });
});
