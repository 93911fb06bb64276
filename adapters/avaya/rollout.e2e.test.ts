import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, manualProfiles, stageToSuccess } from '../../test/helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { bootPhone } from './simulator.ts';

// An Avaya phone reports its release in its User-Agent. Its firmware comes from the upgrade script every
// phone of the model shares (rolloutHealth scope `model`): a rollout to them is one 100 % stage, and only
// that is accepted.
const PROFILE = 'avaya-96x1';
const PHONES = Array.from({ length: 4 }, (_, i) => ({ id: `desk-${i}`, mac: `00e0bb0096a${i}` }));

describe('Avaya staged rollout: stage → success', () => {
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-rollout-');
  before(async () => {
    s = await startTestServer({ profilesDir: manualProfiles([PROFILE]), rollouts: { tickSeconds: 0.1 } });
    for (const p of PHONES) s.core.devices.upsert({ id: p.id, profile: PROFILE, model: '9608', mac: p.mac, password: `${p.id}-pw` });
  });
  after(async () => {
    await s.stop();
  });

  it('a rollout is one stage of the whole model; each phone reports the new release', async () => {
    const name = 'S96x1_SIP_R7_1_2_0_14.tar';
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(4000, 3), {
      kind: 'firmware',
      profile: PROFILE,
      models: ['9608'],
      version: name,
      filename: name,
    });
    const refused = await api<{ code: string; message: string }>(s, 'POST', '/rollouts', { artifactId: fw.id, stages: '10,100' }, 400);
    assert.match(refused.message, /one stage of the whole profile/);
    await stageToSuccess(s, {
      artifactId: fw.id,
      devices: PHONES.map((p) => p.id),
      stages: '100',
      poll: async (id) => {
        const p = PHONES.find((x) => x.id === id)!;
        const r = await bootPhone({ server: s.http, model: '9608', mac: p.mac, stateDir, user: p.id, password: `${p.id}-pw` });
        assert.equal(r.ok, true, r.error);
      },
    });
  });
});
