import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apsCli } from '../../test/helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';

// Issue 9 point 4: an AudioCodes device without a MAC was accepted and failed only at preview. The
// adapter's validateDevice hook refuses it wherever a device is written: CLI, apply, admin API.
describe('AudioCodes devices need a MAC when they are written', () => {
  const data = tempDir('aps-acv-');
  const { aps, fails } = apsCli({ ...process.env, APS_DATA: data, APS_LOG_LEVEL: 'silent' });
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.stop();
  });

  it('device add without --mac is refused with the adapter message; with one it is added', async () => {
    await fails(['device', 'add', 'gw1', '--profile', 'audiocodes-mp124'], /AudioCodes device gw1 needs a MAC/);
    await aps('device', 'add', 'gw1', '--profile', 'audiocodes-mp124', '--mac', '00:90:8f:00:00:99');
    await fails(['device', 'set', 'gw1', '--mac', ''], /needs a MAC/);
  });

  it('the admin API answers 400 naming the reason', async () => {
    const r = await fetch(`${s.http}/api/v1/devices`, {
      method: 'POST',
      headers: { Authorization: s.auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'gw2', profile: 'audiocodes-mp124' }),
    });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { message: string }).message, /AudioCodes device gw2 needs a MAC/);
    assert.equal(s.core.devices.get('gw2'), undefined, 'nothing stored');
  });

  it('other families need no MAC', async () => {
    await aps('device', 'add', 'u1', '--profile', 'vop', '--password', 'pw');
  });
});
