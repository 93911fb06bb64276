import { after, before, describe, it } from 'node:test';
import { manualProfiles, stageToSuccess } from '../../test/helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { runVopCycle } from './simulator.ts';

// A VOP never says what it runs: a complete download of the new firmware is its success (rolloutHealth
// `fetch`). Six VOPs under release: manual; the shared helper checks the first stage's selection.
const IDS = Array.from({ length: 6 }, (_, i) => `op${String(i).padStart(2, '0')}`);

describe('VOP staged rollout: stage → success', () => {
  let s: TestServer;
  const dirs = new Map(IDS.map((id) => [id, tempDir('aps-vop-rollout-')]));
  before(async () => {
    s = await startTestServer({ profilesDir: manualProfiles(['vop']), rollouts: { tickSeconds: 0.1 } });
    for (const id of IDS) s.core.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
  });
  const poll = async (id: string): Promise<void> =>
    void (await runVopCycle({ server: s.http, user: id, password: `${id}-pw`, stateDir: dirs.get(id)! }));
  after(async () => {
    await s.stop();
  });

  it('the candidate reaches the hash-selected VOPs, then all; each complete fetch is a success', async () => {
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(30_000, 7), {
      kind: 'firmware',
      profile: 'vop',
      version: '4.0',
      serial: 40,
      filename: 'fw40.bin',
    });
    await stageToSuccess(s, {
      artifactId: fw.id,
      devices: IDS,
      poll,
    });
  });

  it('with auto-promote a rollout goes through its stages by itself', async () => {
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(30_000, 8), {
      kind: 'firmware',
      profile: 'vop',
      version: '5.0',
      serial: 50,
      filename: 'fw50.bin',
    });
    await stageToSuccess(s, { artifactId: fw.id, devices: IDS, poll, stages: '50,100', autoPromote: true });
  });
});
