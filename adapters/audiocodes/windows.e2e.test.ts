import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSipListener, type SipListener } from '../../src/adapter-api.ts';
import { AudioCodesSimulator, type CheckResult } from './simulator.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { NIGHTLY, TestClock, profilesWith } from '../../test/helpers/windows.ts';

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

describe('AudioCodes: the push at the window start (SIP NOTIFY check-sync) reaches only the gateway with a change', () => {
  const clock = new TestClock();
  let s: TestServer;
  const sims = new Map<string, AudioCodesSimulator>();
  const sips: SipListener[] = [];
  const notified = new Map<string, Promise<CheckResult>>();

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer(
      {
        profilesDir: profilesWith({ [PROFILE]: { window: { ...NIGHTLY, push: true } } }),
        windows: { checkSeconds: 3600 },
        adapters: { audiocodes: { sipTimers: { t1Ms: 20, t2Ms: 80, timerFMs: 600 } } },
      },
      undefined,
      undefined,
      { clock },
    );
    for (const [id, mac] of [
      ['gw-a', '00908F1DD0F1'],
      ['gw-b', '00908F1DD0F2'],
    ] as const) {
      const sim = new AudioCodesSimulator({ iniUrl: `${s.http}/audiocodes/<MAC>.ini`, mac: mac.toLowerCase(), firmware: '6.60A.349.001' });
      const sip = await startSipListener({ onCheckSync: () => void notified.set(id, sim.check()) });
      s.core.devices.upsert({
        id,
        profile: PROFILE,
        mac,
        model: 'MP-124',
        vars: { update_scheme: 'http', sip_host: '127.0.0.1', sip_port: String(sip.port) },
      });
      sims.set(id, sim);
      sips.push(sip);
    }
  });
  after(async () => {
    for (const sip of sips) await sip.close();
    await s.stop();
  });

  it('both are provisioned; a change for gw-a waits; at the window start only gw-a is told, and fetches it', async () => {
    for (const sim of sims.values()) assert.equal((await sim.check()).ini, 'applied');
    clock.set('2026-01-14T12:00:00Z');
    s.core.devices.upsert({ id: 'gw-a', vars: { first_number: '777' } });
    assert.equal((await sims.get('gw-a')!.check()).ini, 'not-modified', 'outside the window');
    clock.set('2026-01-15T02:00:02Z');
    assert.equal(await s.windowPush.check(), 1);
    await s.windowPush.idle();
    assert.deepEqual([...notified.keys()], ['gw-a']);
    const r = await notified.get('gw-a')!;
    assert.equal(r.ini, 'applied');
    assert.match(await (await fetch(`${s.http}/audiocodes/00908F1DD0F1.ini`)).text(), /777/);
  });
});
