import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

// Malformed uploads and pins through the admin API: a clear 4xx, nothing half-written, no other device's data.
describe('admin API refuses bad input clearly', () => {
  let s: TestServer;
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${s.http}/api/v1${path}`, { ...init, headers: { authorization: s.auth, ...(init.headers ?? {}) } });
  const form = (files: Record<string, string>, fields: Record<string, string> = { kind: 'config', profile: 'vop' }): FormData => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.append(k, v);
    for (const [k, v] of Object.entries(files)) f.append(k, new Blob([v]), 'x.cfg');
    return f;
  };
  const uploadsLeft = (): string[] => readdirSync(join(s.dataDir, 'uploads'));

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'alice', profile: 'vop', password: 'pw-a' });
    s.core.devices.upsert({ id: 'bob', profile: 'vop', password: 'pw-b' });
  });
  after(() => s.stop());

  it('answers 400 to a second file, another field name and a cut-off multipart body', async () => {
    const two = new FormData();
    two.append('kind', 'config');
    two.append('profile', 'vop');
    two.append('file', new Blob(['a']), 'a.cfg');
    two.append('file', new Blob(['b']), 'b.cfg');
    const r1 = await api('/artifacts', { method: 'POST', body: two });
    assert.equal(r1.status, 400);
    assert.match(((await r1.json()) as { message: string }).message, /^upload: /);
    const r2 = await api('/artifacts', { method: 'POST', body: form({ upload: 'x' }) });
    assert.equal(r2.status, 400);

    const boundary = 'XyZ123';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.cfg"\r\nContent-Type: application/octet-stream\r\n\r\npartial bytes, then nothing`;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${s.http}/api/v1/artifacts`,
        {
          method: 'POST',
          headers: {
            authorization: s.auth,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 400);
    assert.deepEqual(uploadsLeft(), [], 'no partial upload left behind');
    assert.equal(s.core.catalog.list().length, 0);
  });

  it("refuses an upload for an unknown device, a pin to another device's artifact and a model the profile lacks", async () => {
    const ghost = await api('/artifacts', {
      method: 'POST',
      body: form({ file: 'x' }, { kind: 'config', profile: 'vop', device: 'ghost' }),
    });
    assert.equal(ghost.status, 404);
    const own = await api('/artifacts', {
      method: 'POST',
      body: form({ file: 'alice secret' }, { kind: 'config', profile: 'vop', device: 'alice' }),
    });
    assert.equal(own.status, 201);
    const { id } = (await own.json()) as { id: number };
    const pin = await api('/devices/bob', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pins: { config: id } }),
    });
    assert.equal(pin.status, 400);
    assert.match(((await pin.json()) as { message: string }).message, /belongs to device alice/);
    const model = await api('/devices/bob', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'NOT-A-VOP' }),
    });
    assert.equal(model.status, 400);
    assert.match(((await model.json()) as { message: string }).message, /model "NOT-A-VOP" is not one of profile vop's models \(VOP\)/);
    const cfg = await fetch(`${s.http}/vop/c?u=bob&p=pw-b`);
    assert.ok(!(await cfg.text()).includes('alice secret'));
    const metrics = await (await fetch(`${s.http}/metrics`)).text();
    assert.match(metrics, /^aps_password_checks_total [1-9]\d*$/m, "bob's password was checked against its keyed hash");
    assert.match(metrics, /^aps_password_hashes_total 0$/m, 'no scrypt for a keyed hash');
    assert.match(metrics, /^aps_password_checks_queued 0$/m);
  });
});
