import { after, before, describe, it } from 'node:test';
import { manualProfiles, stageToSuccess } from '../../test/helpers/rollouts.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { AudioCodesSimulator } from './simulator.ts';

// An AudioCodes gateway reports the version it runs in its User-Agent: it succeeds once that is the new
// cmp's version (after the check that installed it and the reset).
const PROFILE = 'audiocodes-mp124';
const GWS = Array.from({ length: 8 }, (_, i) => ({ id: `gw${i}`, mac: `00908F00AA0${i}` }));

describe('AudioCodes staged rollout: stage → success', () => {
  let s: TestServer;
  const sims = new Map<string, AudioCodesSimulator>();
  before(async () => {
    s = await startTestServer({ profilesDir: manualProfiles([PROFILE]), rollouts: { tickSeconds: 0.1 } });
    for (const g of GWS) {
      s.core.devices.upsert({ id: g.id, profile: PROFILE, mac: g.mac, model: 'MP-124', vars: { update_scheme: 'http' } });
      sims.set(
        g.id,
        new AudioCodesSimulator({ iniUrl: `${s.http}/audiocodes/<MAC>.ini`, mac: g.mac.toLowerCase(), firmware: '6.60A.349.001' }),
      );
    }
  });
  after(async () => {
    await s.stop();
  });

  it('the candidate cmp reaches the hash-selected gateways, then all; each reports the new version', async () => {
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(20_000, 1), {
      kind: 'firmware',
      profile: PROFILE,
      version: '6.60A.360.002',
      filename: 'MP124_SIP.cmp',
    });
    await stageToSuccess(s, {
      artifactId: fw.id,
      devices: GWS.map((g) => g.id),
      poll: async (id) => void (await sims.get(id)!.check()),
    });
    for (const sim of sims.values()) if (sim.firmware !== '6.60A.360.002') throw new Error(`${sim.o.mac} runs ${sim.firmware}`);
  });
});
