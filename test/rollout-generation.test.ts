import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

// Caches of rendered files and target selection are keyed by the store's generation. A rollout device's
// health moving to `succeeded` changes nobody's target, so it must not move the generation (migration 11):
// a 10,000-device rollout would otherwise empty every cache 10,000 times. A failure does change a target
// (the device is held back from the artifact), so it must move it.
describe('rollout device health and the change generation', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  it('a success leaves the generation; a failure (and its undoing) moves it', () => {
    const st = s.core.store;
    const at = new Date().toISOString();
    const r = st.rollouts.insert({
      artifactId: 1,
      profile: 'vop',
      slot: 'firmware',
      groups: [],
      stages: [10, 100],
      stage: 0,
      maxFailures: '5%',
      timeoutSeconds: 3600,
      autoPromote: false,
      ackedFailures: 0,
      state: 'running',
      reason: null,
      createdAt: at,
      updatedAt: at,
      stageAt: at,
    });
    const device = (deviceId: string) =>
      ({ rolloutId: r.id, deviceId, stage: 0, previousId: null, assignedAt: at, status: 'pending', detail: null, updatedAt: at }) as const;
    st.rollouts.addDevices([device('d1'), device('d2')]);
    const g0 = st.state.generation();
    st.rollouts.setDeviceStatus(r.id, 'd1', 'succeeded', 'reported 2.0', at);
    assert.equal(st.state.generation(), g0, 'a success is not a change of target');
    st.rollouts.setDeviceStatus(r.id, 'd2', 'failed', 'fault 9010', at);
    const g1 = st.state.generation();
    assert.ok(g1 > g0, 'a failure holds the device back: a change of target');
    st.rollouts.setDeviceStatus(r.id, 'd2', 'failed', 'fault 9011', at);
    assert.equal(st.state.generation(), g1, 'a new detail of the same failure changes nothing');
    st.rollouts.setDeviceStatus(r.id, 'd2', 'pending', null, at);
    assert.ok(st.state.generation() > g1, 'leaving failed is a change of target too');
  });
});
