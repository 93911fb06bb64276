// Maintenance windows with the Avaya simulator. The upgrade script and binaries are shared by a model (the
// phone names only its model), so they follow the profile's window; the phone's own file follows its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { NIGHTLY, TestClock, profilesWith } from '../../test/helpers/windows.ts';
import { bootPhone, type BootResult } from './simulator.ts';

const PHONE = { id: 'desk-w', profile: 'avaya-96x1', model: '9608', mac: '00e0bb00ee08' } as const;

describe('Avaya maintenance window (02:00-03:00 UTC on the 96x1 profile)', () => {
  const clock = new TestClock();
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-win-');
  const boot = (): Promise<BootResult> =>
    bootPhone({ server: s.https, model: PHONE.model, mac: PHONE.mac, stateDir, password: 'pw-w', user: PHONE.id, insecure: true });
  const firmware = (filename: string, fill: number): Promise<unknown> =>
    s.core.catalog.addBuffer(Buffer.alloc(3000, fill), {
      kind: 'firmware',
      profile: PHONE.profile,
      models: [PHONE.model],
      version: filename,
      filename,
    });

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer({ profilesDir: profilesWith({ [PHONE.profile]: { window: NIGHTLY } }) }, undefined, undefined, { clock });
    s.core.devices.upsert({ ...PHONE, password: 'pw-w', vars: { SIPUSERNAME: '300' } });
    await firmware('S96x1_SIP_R7_1_2_0_14.tar', 1);
  });
  after(async () => {
    await s.stop();
  });

  it('first boot outside the window: the phone gets its binary and settings at once', async () => {
    const r = await boot();
    assert.ok(r.ok, r.error);
    assert.deepEqual(r.downloaded, ['S96x1_SIP_R7_1_2_0_14.tar']);
    assert.equal(r.settings.SIPUSERNAME, '300');
  });

  it('outside the window a new binary and a changed parameter reach nobody', async () => {
    clock.set('2026-01-14T12:00:00Z');
    await firmware('S96x1_SIP_R7_1_15_0_4.tar', 2);
    s.core.devices.upsert({ id: PHONE.id, vars: { SIPUSERNAME: '301' } });
    const r = await boot();
    assert.ok(r.ok, r.error);
    assert.deepEqual(r.downloaded, []);
    assert.equal(r.running, 'S96x1_SIP_R7_1_2_0_14.tar');
    assert.equal(r.settings.SIPUSERNAME, '300', 'the phone file is the one it had');
  });

  it('inside the window the phone takes the new binary and parameter', async () => {
    clock.set('2026-01-15T02:10:00Z');
    const r = await boot();
    assert.ok(r.ok, r.error);
    assert.deepEqual(r.downloaded, ['S96x1_SIP_R7_1_15_0_4.tar']);
    assert.equal(r.settings.SIPUSERNAME, '301');
  });
});
