import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, manualProfiles, stageToSuccess } from '../../test/helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { runPoll } from './simulator.ts';

// An innovaphone device reports the build it loaded as the PROT argument of its next update request: it
// succeeds once that is the new firmware's build serial.
const PROFILE = 'innovaphone-ip232';
const PHONES = Array.from({ length: 8 }, (_, i) => ({ id: `ip232-${i}`, mac: `00-90-33-00-0a-0${i}` }));

describe('innovaphone staged rollout: stage → success', () => {
  let s: TestServer;
  let url = '';
  const dirs = new Map(PHONES.map((p) => [p.id, tempDir('aps-innovaphone-rollout-')]));
  before(async () => {
    s = await startTestServer({ profilesDir: manualProfiles([PROFILE]), rollouts: { tickSeconds: 0.1 } });
    for (const p of PHONES) s.core.devices.upsert({ id: p.id, profile: PROFILE, mac: p.mac });
    url = (await api<{ setup: { url: string } }>(s, 'GET', `/devices/${PHONES[0]!.id}`)).setup.url;
  });
  after(async () => {
    await s.stop();
  });

  it('the candidate reaches the hash-selected phones, then all; each reports the new build in PROT', async () => {
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(20_000, 2), {
      kind: 'firmware',
      profile: PROFILE,
      version: '13r3-5700',
      filename: 'ip232.bin',
    });
    await stageToSuccess(s, {
      artifactId: fw.id,
      devices: PHONES.map((p) => p.id),
      poll: async (id) => {
        const p = PHONES.find((x) => x.id === id)!;
        const r = await runPoll({ url, product: 'IP232', mac: p.mac, stateDir: dirs.get(id)!, hour: 12, uptimeMinutes: 60 });
        assert.equal(r.ok, true, r.error);
      },
    });
  });
});
