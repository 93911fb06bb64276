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
import { sourceRunner } from '../src/sources/sync.ts';
import { hashSelected, manualProfiles } from './helpers/rollouts.ts';
import { tempDir } from './helpers/server.ts';

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
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: join(dir, 'data'),
        profilesDir: manualProfiles(['vop']),
        sources: [
          {
            name: 'mirror',
            type: 'folder',
            path: up,
            map: [{ pattern: 'vop-(?<version>[\\d.]+)\\.bin', profile: 'vop', kind: 'firmware' }],
            rollout: { stages: [50, 100], maxFailures: '5%', timeout: '1d' },
          },
        ],
      },
    });
    core = openCore(config, ADAPTERS, createLogger('silent'));
    for (const id of ids) core.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
  });
  after(() => core.close());

  it('a new upstream build becomes a candidate with its own rollout at the first stage', async () => {
    const run = await sourceRunner(core, rolloutSourceHooks(core)).run(core.config.sources[0]!, { trigger: 'cli' });
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
