import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawRequest, startTestServer, type RawAnswer, type TestServer } from './helpers/server.ts';

// Review 15a: the file responder's new whole-file fast path (src/transport/file-responder.ts, a rendered
// file without Range) and the fast device dispatch must keep 304 / HEAD / 206 / If-Range and req.ip behind a
// trusted proxy exactly as before.
describe('responder fast path and req.ip on the fast dispatch', () => {
  let s: TestServer;
  const MAC = '00908f0d0a78';
  const PATH = `/audiocodes/${MAC}.ini`;
  before(async () => {
    s = await startTestServer({ http: { host: '127.0.0.1', port: 0, trustedProxies: ['127.0.0.1'] } });
    s.core.devices.upsert({ id: 'gw-responder', profile: 'audiocodes-mp124', mac: MAC });
  });
  after(() => s.stop());

  const raw = (method: string, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> =>
    rawRequest(s.http, method, path, headers);

  it('200, then HEAD, 304 (ETag and date), 206 and a stale If-Range', async () => {
    const full = await raw('GET', PATH);
    assert.equal(full.status, 200);
    assert.equal(Number(full.h['content-length']), Buffer.byteLength(full.body));
    const etag = String(full.h['etag']);
    const lm = String(full.h['last-modified']);
    assert.ok(etag && lm);

    const head = await raw('HEAD', PATH);
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.h['content-length'], full.h['content-length']);
    assert.equal(head.h['etag'], etag);

    const conditional: Array<Record<string, string>> = [
      { 'if-none-match': etag },
      { 'if-modified-since': lm },
      { 'if-none-match': etag, 'cache-control': 'no-cache' },
    ];
    for (const h of conditional) {
      const nm = await raw('GET', PATH, h);
      assert.equal(nm.status, 304, JSON.stringify(h));
      assert.equal(nm.h['etag'], etag);
      assert.equal(nm.h['content-type'], undefined);
    }
    const changed = await raw('GET', PATH, { 'if-none-match': '"other"' });
    assert.equal(changed.status, 200);

    const part = await raw('GET', PATH, { range: 'bytes=0-9' });
    assert.equal(part.status, 206);
    assert.equal(part.body, full.body.slice(0, 10));
    assert.equal(part.h['content-range'], `bytes 0-9/${Buffer.byteLength(full.body)}`);

    const stale = await raw('GET', PATH, { range: 'bytes=0-9', 'if-range': '"other"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body, full.body);

    const bad = await raw('GET', PATH, { range: `bytes=${Buffer.byteLength(full.body) + 10}-` });
    assert.equal(bad.status, 416);
  });

  it('req.ip on the fast dispatch is the X-Forwarded-For of a trusted proxy, as on the app path', async () => {
    await raw('GET', PATH, { 'x-forwarded-for': '203.0.113.9' });
    await raw('GET', `/AudioCodes/${MAC}.ini`, { 'x-forwarded-for': '203.0.113.10' });
    s.core.events.flush();
    const ips = s.core.store.state
      .events({ deviceId: 'gw-responder', limit: 50 })
      .map((e) => e.ip)
      .filter((ip) => ip?.startsWith('203.'));
    assert.ok(ips.includes('203.0.113.9'), `fast path: ${ips.join(',')}`);
    assert.ok(ips.includes('203.0.113.10'), `app path: ${ips.join(',')}`);
  });
});
