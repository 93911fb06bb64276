import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simRequest } from '../src/adapter-api.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

// Issue 13, defect 8: a client reading one byte a minute held a download (a connection and a file
// descriptor) forever. Below http.minSendRate over a grace period the server now closes it, and the
// download's event says why.
const PROFILE = 'audiocodes-mp124';
const MAC = '00908FCC0001';

describe('minimum send rate on downloads', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ http: { host: '127.0.0.1', port: 0, minSendRate: 2_000_000, minSendRateGraceSeconds: 0.5 } });
    s.core.devices.upsert({ id: 'slow-gw', profile: PROFILE, mac: MAC });
    // Larger than what loopback socket buffers take in one go, so a reader that stops reading stalls the send.
    await s.core.catalog.addBuffer(Buffer.alloc(48 * 1024 * 1024, 7), {
      kind: 'firmware',
      profile: PROFILE,
      version: '9.9',
      filename: 'slow.cmp',
    });
  });
  after(async () => {
    await s.stop();
  });

  it('a client that stops reading is cut off; the event says so; a client that reads gets everything', { timeout: 30_000 }, async () => {
    const ini = (await simRequest({ url: `${s.http}/audiocodes/${MAC}.ini` })).body.toString('latin1');
    const url = new URL(/CmpFileURL\s*=\s*'?([^'\r\n]+)/.exec(ini)![1]!);
    const sock = connect(s.httpPort, '127.0.0.1', () => {
      // Reads nothing: no 'data' listener, so the socket stays paused and the kernel buffers fill.
      sock.write(`GET ${url.pathname} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    sock.on('error', () => undefined);
    const cut = async (): Promise<{ status: number; detail: string | null; ip: string | null } | undefined> => {
      for (;;) {
        s.core.events.flush();
        const e = s.core.store.state.events({ deviceId: 'slow-gw', limit: 10 }).find((x) => x.status === 499);
        if (e) return e;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const e = await cut();
    assert.match(String(e?.detail), /^closed: fewer than 2000000 bytes\/s over 0\.5 s/);
    assert.equal(e?.ip, '127.0.0.1');
    // Reading again, the client finds the connection closed before the whole file came.
    let got = 0;
    sock.on('data', (c: Buffer) => (got += c.length));
    await new Promise((r) => sock.once('close', r));
    assert.ok(got < 48 * 1024 * 1024);
    const full = await simRequest({ url: url.href });
    assert.equal(full.status, 200);
    assert.equal(full.body.length, 48 * 1024 * 1024);
  });
});
