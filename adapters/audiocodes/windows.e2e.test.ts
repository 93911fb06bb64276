import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AudioCodesSimulator } from './simulator.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { TestClock, profilesWith } from '../../test/helpers/windows.ts';

const PROFILE = 'audiocodes-mp124';
const MAC = '00908F1DD0E1';

// Maintenance windows with the AudioCodes simulator: 304s outside the window, the new ini and cmp inside
// it, and the ini's daily check (AutoUpdatePredefinedTime) at the window's start.
describe('AudioCodes maintenance window (Mon-Fri 02:30-04:00 Europe/Berlin)', () => {
  const clock = new TestClock();
  let s: TestServer;
  let sim: AudioCodesSimulator;
  const firmware = (version: string, fill: number): Promise<unknown> =>
    s.core.catalog.addBuffer(Buffer.alloc(5000, fill), { kind: 'firmware', profile: PROFILE, version, filename: 'MP124_SIP.cmp' });
  const ini = async (): Promise<string> => (await fetch(`${s.http}/audiocodes/${MAC}.ini`)).text();

  before(async () => {
    clock.set('2026-01-13T12:00:00Z'); // a Tuesday
    const window = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '02:30', to: '04:00', tz: 'Europe/Berlin' };
    s = await startTestServer({ profilesDir: profilesWith({ [PROFILE]: { window } }) }, undefined, undefined, { clock });
    s.core.devices.upsert({ id: 'gw-win', profile: PROFILE, mac: MAC, model: 'MP-124', vars: { update_scheme: 'http' } });
    await firmware('6.60A.360.002', 1);
    sim = new AudioCodesSimulator({ iniUrl: `${s.http}/audiocodes/<MAC>.ini`, mac: MAC.toLowerCase(), firmware: '6.60A.349.001' });
  });
  after(async () => {
    await s.stop();
  });

  it('a factory-new gateway is served at once; its ini checks daily at the window start', async () => {
    const r = await sim.check();
    assert.deepEqual(r.errors, []);
    assert.equal(r.ini, 'applied');
    assert.equal(r.cmp, 'installed');
    const text = await ini();
    assert.match(text, /AutoUpdatePredefinedTime = '02:30'/);
    assert.match(text, /AutoUpdateFrequency = 0/);
  });

  it('outside the window a new cmp and a changed variable give 304s and no download', async () => {
    clock.set('2026-01-14T12:00:00Z');
    const before = await ini();
    await firmware('6.60A.361.001', 2);
    s.core.devices.upsert({ id: 'gw-win', vars: { first_number: '555' } });
    const r = await sim.check();
    assert.deepEqual(r.errors, []);
    assert.equal(r.ini, 'not-modified');
    assert.equal(r.cmp, 'not-modified');
    assert.deepEqual(r.downloads, []);
    assert.equal(sim.firmware, '6.60A.360.002');
    assert.equal(await ini(), before, 'the same ini, byte for byte');
  });

  it('on Saturday (not a window day) still nothing; on Monday inside the window the new ini and cmp', async () => {
    clock.set('2026-01-17T02:45:00+01:00');
    assert.deepEqual((await sim.check()).downloads, []);
    clock.set('2026-01-19T02:45:00+01:00');
    const r = await sim.check();
    assert.deepEqual(r.errors, []);
    assert.equal(r.ini, 'applied');
    assert.equal(r.cmp, 'installed');
    assert.equal(sim.firmware, '6.60A.361.001');
    assert.match(await ini(), /555/);
  });
});
