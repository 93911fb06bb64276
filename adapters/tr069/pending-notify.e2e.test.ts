import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { connectionRequest } from './connection-request.ts';
import { configSchema } from './settings.ts';
import { initialState, runCpeSession } from './simulator.ts';

// Issue 9, points 6 and 7: what a new admin trips over with CPEs that register themselves.
function image(version: string): Buffer {
  const payload = Buffer.alloc(64, 7);
  return Buffer.concat([Buffer.from(`APSFW ${version} ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
}

describe('TR-069: a pending CPE takes its model from the Inform; notify says what is true', () => {
  let s: TestServer;
  const config = configSchema.parse({});
  before(async () => {
    s = await startTestServer({ adapters: { tr069: { unknownCpe: 'pending', pendingProfile: 'thomson-tr069' } } });
    // Firmware for the TG789 only: a CPE without a model would never get it.
    await s.core.catalog.addBuffer(image('3.0'), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '3.0',
      models: ['TG789'],
      filename: 'tg789-3.0.bin',
    });
  });
  after(async () => {
    await s.stop();
  });

  it('stores the ProductClass as model when the profile lists it, so approval gives it its firmware', async () => {
    const o = { acs: `${s.http}/tr069`, serial: 'PM1', productClass: 'TG789', password: 'pm1-pw', state: initialState('1.0') };
    assert.equal((await runCpeSession(o)).error, undefined);
    const d = s.core.devices.get('00147F-TG789-PM1');
    assert.equal(d?.status, 'pending');
    assert.equal(d?.model, 'TG789');
    s.core.devices.upsert({ id: d!.id, status: 'active', password: 'pm1-pw' });
    const r = await runCpeSession({ ...o, username: d!.id });
    assert.equal(r.error, undefined);
    assert.ok(
      r.downloads.some((x) => x.fileType === '1 Firmware Upgrade Image'),
      'the model firmware is sent after approval',
    );
  });

  it('gives a CPE an older APS registered as pending without a model its model at its next Inform', async () => {
    s.core.devices.upsert({ id: '00147F-TG789-PM4', profile: 'thomson-tr069', status: 'pending', vars: { keep: 'me' } });
    const o = { acs: `${s.http}/tr069`, serial: 'PM4', productClass: 'TG789', password: 'x', state: initialState('1.0') };
    assert.equal((await runCpeSession(o)).error, undefined);
    const d = s.core.devices.get('00147F-TG789-PM4');
    assert.equal(d?.model, 'TG789');
    assert.equal(d?.status, 'pending');
    assert.equal(d?.vars.keep, 'me', 'nothing else changed');
  });

  it('leaves the model empty when the ProductClass is not one of the profile models', async () => {
    const o = { acs: `${s.http}/tr069`, serial: 'PM2', productClass: 'XG999', password: 'x', state: initialState('1.0') };
    assert.equal((await runCpeSession(o)).error, undefined);
    assert.equal(s.core.devices.get('00147F-XG999-PM2')?.model, null);
  });

  it('aps notify on a CPE that informed an empty ConnectionRequestURL says so, not "no Inform received"', async () => {
    const o = { acs: `${s.http}/tr069`, serial: 'PM3', password: 'x', state: initialState('1.0') };
    assert.equal((await runCpeSession(o)).error, undefined); // the simulator reports '' without --listen
    s.core.events.flush();
    const r = await connectionRequest(s.core.devices.get('00147F-TG784-PM3')!, s.core.servicesFor('tr069'), config);
    assert.equal(r.ok, false);
    assert.doesNotMatch(r.summary, /no Inform/);
    assert.match(r.summary, /empty ConnectionRequestURL/);
  });

  it('aps notify on a CPE never heard from says no Inform was received', async () => {
    s.core.devices.upsert({ id: 'NEVER1', profile: 'thomson-tr069', password: 'x' });
    const r = await connectionRequest(s.core.devices.get('NEVER1')!, s.core.servicesFor('tr069'), config);
    assert.equal(r.ok, false);
    assert.match(r.summary, /no Inform received/);
  });
});
