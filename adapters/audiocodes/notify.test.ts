import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { until } from '../../test/helpers/until.ts';
import { audiocodesAdapter } from './index.ts';
import { startSipListener } from '../../src/adapter-api.ts';

// `aps notify` outcomes other than 200 (the 200 path runs in audiocodes.e2e.test.ts): a challenge, no
// answer within Timer F, and a device without a SIP address. Loopback only.
describe('AudioCodes SIP NOTIFY outcomes', () => {
  let s: TestServer;
  const notify = (id: string) =>
    audiocodesAdapter.notify!(s.core.devices.get(id)!, s.core.servicesFor('audiocodes'), s.core.adapterConfig('audiocodes'));

  before(async () => {
    s = await startTestServer({ adapters: { audiocodes: { sipTimers: { t1Ms: 10, t2Ms: 40, timerFMs: 300 } } } });
  });
  after(async () => {
    await s.stop();
  });

  it('reports a 401 challenge', async () => {
    let checks = 0;
    const gw = await startSipListener({ status: 401, onCheckSync: () => void checks++ });
    try {
      s.core.devices.upsert({
        id: 'n401',
        profile: 'audiocodes-mp11x',
        mac: '00908FD00001',
        vars: { sip_host: '127.0.0.1', sip_port: String(gw.port), sip_user: 'line1' },
      });
      const r = await notify('n401');
      assert.equal(r.ok, false);
      assert.match(r.summary, /^401 Unauthorized/);
      assert.equal(checks, 0);
    } finally {
      await gw.close();
    }
  });

  it('retransmits until Timer F, then reports a timeout', async () => {
    const silent = createSocket('udp4');
    let received = 0;
    silent.on('message', () => void received++);
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      s.core.devices.upsert({
        id: 'nsilent',
        profile: 'audiocodes-mp11x',
        mac: '00908FD00002',
        vars: { sip_host: '127.0.0.1', sip_port: String(silent.address().port) },
      });
      const r = await notify('nsilent');
      assert.equal(r.ok, false);
      const sent = Number(/^timeout after (\d+) transmissions$/.exec(r.summary)?.[1]);
      // Timer E (T1) and Timer F start together at the first transmission and E is due first, so at least
      // one retransmission precedes the timeout however loaded the machine (the exact RFC 3261 schedule
      // is checked in virtual time in src/push/sip-notify.test.ts).
      assert.ok(sent >= 2, r.summary);
      // The datagrams are sent; the listener may not have read the last ones yet.
      await until(
        'the gateway got every transmission the summary counts',
        () => received,
        (n) => n >= sent,
      );
      assert.equal(received, sent, 'no more than the summary counts');
    } finally {
      silent.close();
    }
  });

  it('says the NOTIFY was sent when the gateway answers ICMP port unreachable', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    s.core.devices.upsert({
      id: 'nclosed',
      profile: 'audiocodes-mp11x',
      mac: '00908FD00004',
      vars: { sip_host: '127.0.0.1', sip_port: String(port) },
    });
    assert.deepEqual(await notify('nclosed'), {
      ok: false,
      summary: `sent; the device refused it (ICMP port unreachable: nothing listens on 127.0.0.1:${port}/udp)`,
    });
  });

  it('names the missing variable when the device has no SIP address', async () => {
    s.core.devices.upsert({ id: 'nosip', profile: 'audiocodes-mp11x', mac: '00908FD00003' });
    assert.deepEqual(await notify('nosip'), { ok: false, summary: 'no SIP address: set the device variable sip_host' });
  });
});
