import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

// An artifact served at a per-device URL is dated by when it became that device's file, so a device
// moved back to an older firmware never gets a 304 for bytes it does not have (If-Modified-Since).
describe('artifact Last-Modified per device', () => {
  let s: TestServer;
  const fw = (headers: Record<string, string> = {}) => fetch(`${s.http}/vop/f?u=pinned&p=pw-p`, { headers });

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'pinned', profile: 'vop', password: 'pw-p' });
  });
  after(() => s.stop());

  it('answers 200 with the older bytes after a pin back, and 304 only for what the device has', async () => {
    // Both added in the same second, as one `aps apply` does.
    const old = await s.core.catalog.addBuffer(Buffer.from('firmware 2.1'), {
      kind: 'firmware',
      profile: 'vop',
      version: '2.1',
      serial: 21,
      filename: 'fw21.bin',
    });
    await s.core.catalog.addBuffer(Buffer.from('firmware 2.2'), {
      kind: 'firmware',
      profile: 'vop',
      version: '2.2',
      serial: 22,
      filename: 'fw22.bin',
    });
    const first = await fw();
    assert.equal(await first.text(), 'firmware 2.2');
    const lm22 = first.headers.get('last-modified')!;
    assert.equal((await fw({ 'if-modified-since': lm22 })).status, 304);

    s.core.devices.upsert({ id: 'pinned', pins: { firmware: old.id } });
    const back = await fw({ 'if-modified-since': lm22 });
    assert.equal(back.status, 200);
    assert.equal(await back.text(), 'firmware 2.1');
    const lm21 = back.headers.get('last-modified')!;
    assert.ok(Date.parse(lm21) > Date.parse(lm22), `${lm21} is later than ${lm22}`);
    assert.ok(Date.parse(lm21) <= Date.parse(back.headers.get('date')!), 'Last-Modified never runs ahead of Date');
    assert.equal((await fw({ 'if-modified-since': lm21 })).status, 304);

    s.core.devices.upsert({ id: 'pinned', pins: { firmware: null } });
    const forward = await fw({ 'if-modified-since': lm21 });
    assert.equal(forward.status, 200);
    assert.equal(await forward.text(), 'firmware 2.2');
  });
});
