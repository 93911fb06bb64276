// `aps notify` for an Avaya phone: one out-of-dialog NOTIFY with Event: check-sync to the address in its
// variables; the phone (here a UDP socket standing in for its SIP stack) answers 200 and reboots, which
// re-runs the boot: a binary added meanwhile is downloaded then.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { avayaAdapter } from './index.ts';
import { bootPhone, type BootResult } from './simulator.ts';

/** Answers each SIP request with 200 OK (echoing Via, From, To, Call-ID, CSeq) and reports it. */
function sipPhone(onNotify: (request: string) => void): Promise<Socket> {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const text = msg.toString('utf8');
    const headers = text.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
    sock.send(['SIP/2.0 200 OK', ...headers, 'Content-Length: 0', '', ''].join('\r\n'), rinfo.port, rinfo.address);
    onNotify(text);
  });
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve(sock)));
}

describe('Avaya SIP NOTIFY check-sync', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ adapters: { avaya: { sipTimers: { t1Ms: 20, t2Ms: 80, timerFMs: 2000 } } } });
  });
  after(async () => {
    await s.stop();
  });

  it('sends Event: check-sync; the phone reboots and fetches the new binary', async () => {
    const stateDir = tempDir('aps-avaya-notify-');
    const boot = (): Promise<BootResult> => bootPhone({ server: s.http, model: 'J179', mac: '00e0bb00c179', stateDir });
    let rebooted: Promise<BootResult> | undefined;
    let request = '';
    const phone = await sipPhone((text) => {
      request = text;
      rebooted = boot();
    });
    try {
      s.core.devices.upsert({
        id: 'nt-j179',
        profile: 'avaya-j100',
        model: 'J179',
        mac: '00e0bb00c179',
        vars: { sip_host: '127.0.0.1', sip_port: String(phone.address().port), sip_user: '279' },
      });
      await s.core.catalog.addBuffer(Buffer.alloc(1000, 1), {
        kind: 'firmware',
        profile: 'avaya-j100',
        models: ['J179'],
        filename: 'FW_A.bin',
      });
      assert.deepEqual((await boot()).downloaded, ['FW_A.bin']);
      await s.core.catalog.addBuffer(Buffer.alloc(1000, 2), {
        kind: 'firmware',
        profile: 'avaya-j100',
        models: ['J179'],
        filename: 'FW_B.bin',
        version: '2',
      });
      const r = await avayaAdapter.notify!(s.core.devices.get('nt-j179')!, s.core.servicesFor('avaya'), s.core.adapterConfig('avaya'));
      assert.deepEqual(r, { ok: true, summary: '200 OK' });
      assert.match(request, /^NOTIFY sip:279@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
      assert.match(request, /\r\nEvent: check-sync\r\n/);
      assert.deepEqual((await rebooted!).downloaded, ['FW_B.bin']);
    } finally {
      phone.close();
    }
  });

  it('a phone without sip_host: a clear one-line answer, nothing sent', async () => {
    s.core.devices.upsert({ id: 'nt-none', profile: 'avaya-96x1', model: '9608', mac: '00e0bb00c960' });
    const r = await avayaAdapter.notify!(s.core.devices.get('nt-none')!, s.core.servicesFor('avaya'), s.core.adapterConfig('avaya'));
    assert.equal(r.ok, false);
    assert.match(r.summary, /sip_host/);
  });
});
