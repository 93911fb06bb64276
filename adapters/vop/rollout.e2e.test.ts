import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import {
  api,
  artifactStatus,
  fetchedArtifact,
  manualProfiles,
  rolloutOf,
  stageToSuccess,
  type Rollout,
} from '../../test/helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { until } from '../../test/helpers/until.ts';
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

  it('a rollout limited to a group completes for that group only: the others stay on the released firmware', async () => {
    s.core.devices.upsertGroup({ name: 'lab', vars: {}, pins: {} });
    for (const id of ['lab-1', 'lab-2']) s.core.devices.upsert({ id, profile: 'vop', group: 'lab', password: `${id}-pw` });
    s.core.devices.upsert({ id: 'desk-1', profile: 'vop', password: 'desk-1-pw' });
    for (const id of ['lab-1', 'lab-2', 'desk-1']) dirs.set(id, tempDir('aps-vop-rollout-'));
    const before = s.core.catalog.target(s.core.devices.get('desk-1')!, 'firmware')!;
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(30_000, 9), {
      kind: 'firmware',
      profile: 'vop',
      version: '6.0',
      serial: 60,
      filename: 'fw60.bin',
    });
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: fw.id, groups: ['lab'], stages: '100', timeout: 60 });
    assert.equal(r.counts.devices, 2);
    for (const id of ['lab-1', 'lab-2', 'desk-1']) await poll(id);
    const done = await until(
      'group rollout completes',
      () => rolloutOf(s, r.id),
      (x) => x.state === 'completed',
    );
    assert.match(done.reason!, /2 took it/);
    for (const id of ['lab-1', 'lab-2']) assert.equal(s.core.catalog.target(s.core.devices.get(id)!, 'firmware')?.id, fw.id, id);
    assert.equal(s.core.catalog.target(s.core.devices.get('desk-1')!, 'firmware')?.id, before.id, 'outside the group: unchanged');
    assert.equal(fetchedArtifact(s, 'desk-1', fw.id), false);
    assert.equal(await artifactStatus(s, fw.id), 'target');
  });

  it('a download cut off fails the device, and with max failures 0 the rollout halts at once, naming it', async () => {
    // Larger than loopback's socket buffers can hold, so the cut is seen by the server, never a whole send.
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(64 * 1024 * 1024, 5), {
      kind: 'firmware',
      profile: 'vop',
      version: '7.0',
      serial: 70,
      filename: 'fw70.bin',
    });
    const r = await api<Rollout>(s, 'POST', '/rollouts', {
      artifactId: fw.id,
      groups: ['lab'],
      stages: '100',
      maxFailures: 0,
      timeout: 60,
    });
    // lab-1 starts the new firmware and goes away after the first bytes (a reboot, a lost link).
    await new Promise<void>((resolve, reject) => {
      const req = get(`${s.http}/vop/f?u=lab-1&p=lab-1-pw&v=`, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    });
    // The server's rollout clock judges the cut once its event is written; on a loaded machine that takes a while.
    const halted = await until(
      'halt',
      () => rolloutOf(s, r.id),
      (x) => x.state === 'halted',
      60_000,
    );
    const lab1 = halted.devices.find((d) => d.deviceId === 'lab-1')!;
    assert.equal(lab1.status, 'failed');
    assert.match(lab1.detail!, new RegExp(`download of artifact ${fw.id} cut off after \\d+ of ${64 * 1024 * 1024} bytes`));
    assert.match(halted.reason!, /1 of 2 devices failed, more than max 0: lab-1 \(download of artifact/);
    // Its target is the previous firmware again.
    assert.notEqual(s.core.catalog.target(s.core.devices.get('lab-1')!, 'firmware')?.id, fw.id);
  });
});
