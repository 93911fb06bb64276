import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

// The hand-overs awaiting nginx's report are capped (review13 finding 6): a proxy that stops reporting (or a
// flood of downloads through it) cannot grow APS's memory; what is given up on is counted in /metrics.
// No nginx here: the test client on 127.0.0.1 is the trusted proxy (loopback, the front-proxy default) and
// simply never reports.
describe('front-proxy mode: pending hand-overs are capped', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ http: { host: '127.0.0.1', port: 0, frontProxy: { mode: 'x-accel', completionPort: 0, maxPending: 2 } } });
    await s.core.catalog.addBuffer(Buffer.alloc(4096, 7), {
      kind: 'firmware',
      profile: 'vop',
      version: '9.1',
      serial: 91,
      filename: 'fw.bin',
    });
    s.core.devices.upsert({ id: 'cap1', profile: 'vop', password: 'pw-cap1-0123456789' });
  });
  after(async () => {
    await s.stop();
  });

  it('past maxPending the oldest is recorded as unconfirmed, and /metrics says so', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${s.http}/vop/f?u=cap1&p=pw-cap1-0123456789`);
      assert.equal(r.status, 200);
      assert.ok(r.headers.get('x-accel-redirect'), 'handed over to the trusted proxy');
      ids.push(r.headers.get('x-aps-transfer')!);
      await r.arrayBuffer();
    }
    assert.equal(new Set(ids).size, 5);
    assert.deepEqual(s.core.files.frontProxy!.stats(), { handedOver: 5, confirmed: 0, unconfirmed: 3, overflowed: 3, pending: 2 });
    const metrics = await (await fetch(`${s.http}/metrics`)).text();
    assert.match(metrics, /^aps_front_proxy_overflowed_total 3$/m);
    assert.match(metrics, /^aps_front_proxy_unconfirmed_total 3$/m);
    assert.match(metrics, /^aps_front_proxy_pending 2$/m);
    s.core.events.flush();
    const unconfirmed = s.core.store.state.events({ deviceId: 'cap1' }).filter((e) => e.detail?.includes('never reported'));
    assert.equal(unconfirmed.length, 3, 'each one given up on is an event');
  });
});
