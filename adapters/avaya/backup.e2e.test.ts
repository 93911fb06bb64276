// BRURI backup/restore against a real server: the phone PUTs to the BRURI its own file gave it and GETs
// the same bytes back; other phones, plain HTTP and clients without credentials get nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simRequest } from '../../src/adapter-api.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { bootPhone } from './simulator.ts';

const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
const A = { id: 'bk-alice', mac: '00e0bb00a001', pw: 'alice-pw' };
const B = { id: 'bk-bob', mac: '00e0bb00b002', pw: 'bob-pw' };

// BRURI writes and reads the core backup store (sealed, per device, never overwritten).
describe('Avaya BRURI backups', () => {
  let s: TestServer;
  let bruri: string | undefined;
  const data = Buffer.from('[Contacts]\nName=Carol\nNumber=3001\n');

  before(async () => {
    s = await startTestServer({ adapters: { avaya: { backupMaxBytes: 4096 } } });
    for (const p of [A, B]) s.core.devices.upsert({ id: p.id, profile: 'avaya-96x1', model: '9611', mac: p.mac, password: p.pw });
    const r = await bootPhone({ server: s.https, model: '9611', mac: A.mac, user: A.id, password: A.pw, insecure: true });
    assert.ok(r.ok, r.error);
    bruri = r.settings.BRURI;
  });
  after(async () => {
    await s.stop();
  });

  it('the phone PUTs to its BRURI and GETs the same bytes back; an identical retry stores nothing new', async () => {
    assert.equal(bruri, `${s.https}/avaya/backup/${A.mac}/`);
    const put = await simRequest({ url: `${bruri}9611data.txt`, method: 'PUT', body: data, headers: basic(A.id, A.pw), insecure: true });
    assert.equal(put.status, 201);
    const again = await simRequest({ url: `${bruri}9611data.txt`, method: 'PUT', body: data, headers: basic(A.id, A.pw), insecure: true });
    assert.equal(again.status, 200);
    assert.equal(s.core.backups.list(A.id).length, 1);
    const get = await simRequest({ url: `${bruri}9611data.txt`, headers: basic(A.id, A.pw), insecure: true });
    assert.equal(get.status, 200);
    assert.deepEqual(get.body, data);
    assert.ok(get.headers.etag);
  });

  it("another phone's credentials, no credentials, or plain HTTP: refused, nothing read or stored", async () => {
    assert.ok(bruri, 'the settings carry a BRURI');
    const url = `${bruri}9611data.txt`;
    const other = await simRequest({ url, headers: basic(B.id, B.pw), insecure: true });
    assert.equal(other.status, 401);
    assert.ok(!other.body.includes('Carol'));
    const none = await simRequest({ url, insecure: true });
    assert.equal(none.status, 401);
    const plain = await simRequest({ url: url.replace(s.https, s.http), headers: basic(A.id, A.pw) });
    assert.equal(plain.status, 403);
    const overwrite = await simRequest({ url, method: 'PUT', body: 'evil', headers: basic(B.id, B.pw), insecure: true });
    assert.equal(overwrite.status, 401);
    assert.equal(s.core.backups.list(A.id).length, 1);
    assert.equal(s.core.backups.list(B.id).length, 0);
  });

  it('a backup larger than backupMaxBytes is refused with 413 and nothing is kept', async () => {
    assert.ok(bruri, 'the settings carry a BRURI');
    const big = await simRequest({
      url: `${bruri}big.txt`,
      method: 'PUT',
      body: Buffer.alloc(10_000, 65),
      headers: basic(A.id, A.pw),
      insecure: true,
    });
    assert.equal(big.status, 413);
    assert.deepEqual(
      s.core.backups.list(A.id).map((b) => b.name),
      ['9611data.txt'],
    );
    const missing = await simRequest({ url: `${bruri}big.txt`, headers: basic(A.id, A.pw), insecure: true });
    assert.equal(missing.status, 404);
  });
});
