import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('admin API /api/v1, /healthz, /metrics', () => {
  let s: TestServer;
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${s.http}/api/v1${path}`, { ...init, headers: { authorization: s.auth, ...(init.headers ?? {}) } });

  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.stop();
  });

  it('requires the bearer token', async () => {
    const r = await fetch(`${s.http}/api/v1/devices`);
    assert.equal(r.status, 401);
    // RFC 6750 §3: the challenge names the scheme and realm; no error code when no token was sent.
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="aps"');
    const wrong = await fetch(`${s.http}/api/v1/devices`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="aps", error="invalid_token"');
    const basic = await fetch(`${s.http}/api/v1/devices`, { headers: { authorization: 'Basic YTpi' } });
    assert.equal(basic.headers.get('www-authenticate'), 'Bearer realm="aps"');
    const ok = await fetch(`${s.http}/api/v1/devices`, { headers: { authorization: s.auth } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('www-authenticate'), null);
    assert.deepEqual(await wrong.json(), { error: 'unauthorized', message: 'missing or wrong bearer token' });
  });

  it('creates, reads, updates and deletes devices, never echoing the password', async () => {
    const created = await api('/devices', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'api-op', profile: 'vop', password: 'topsecret', vars: { sip_password: 'x1' } }),
    });
    assert.equal(created.status, 201);
    const text = await created.text();
    assert.ok(!text.includes('topsecret') && !text.includes('x1'), 'no secrets in the answer');
    const dup = await api('/devices', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'api-op', profile: 'vop' }),
    });
    assert.equal(dup.status, 409);
    const patched = await api('/devices/api-op', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ group: 'lab', vars: { language: 'de' } }),
    });
    const view = (await patched.json()) as { group: string; vars: Record<string, string>; setup: { url: string } };
    assert.equal(view.group, 'lab');
    assert.equal(view.vars.language, 'de');
    assert.equal(view.setup.url, `${s.http}/vop/$t?u=$u&p=$p&v=$v`);
    const bad = await api('/devices/api-op', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mac: 'zz' }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /not a MAC address/);
    const unknownKey = await api('/devices/api-op', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ colour: 'red' }),
    });
    assert.equal(unknownKey.status, 400);
    const malformed = await api('/devices/api-op', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{not json' });
    assert.equal(malformed.status, 400);
    assert.equal((await api('/devices/api-op', { method: 'DELETE' })).status, 204);
    assert.equal((await api('/devices/api-op')).status, 404);
  });

  it('uploads artifacts (multipart), lists them, and refuses to delete a current target', async () => {
    await api('/devices', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'up-op', profile: 'vop', password: 'pw' }),
    });
    const form = new FormData();
    form.set('kind', 'firmware');
    form.set('profile', 'vop');
    form.set('version', '9.9');
    form.set('serial', '99');
    form.set('file', new Blob([Buffer.from('uploaded firmware')]), 'fw99.bin');
    const up = await api('/artifacts', { method: 'POST', body: form });
    assert.equal(up.status, 201);
    const a = (await up.json()) as { id: number; md5: string; size: number; filename: string };
    assert.equal(a.size, 17);
    assert.equal(a.filename, 'fw99.bin');
    const list = (await (await api('/artifacts?profile=vop')).json()) as Array<{ id: number }>;
    assert.ok(list.some((x) => x.id === a.id));
    const del = await api(`/artifacts/${a.id}`, { method: 'DELETE' });
    assert.equal(del.status, 409);
    assert.match(((await del.json()) as { message: string }).message, /target of up-op/);
  });

  it('rejects a bad upload with a clear error and leaves no file behind', async () => {
    const form = new FormData();
    form.set('kind', 'weird');
    form.set('profile', 'vop');
    form.set('file', new Blob([Buffer.from('x')]), 'x.bin');
    const r = await api('/artifacts', { method: 'POST', body: form });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { message: string }).message, /kind must be one of/);
    const noFile = new FormData();
    noFile.set('kind', 'aux');
    const r2 = await api('/artifacts', { method: 'POST', body: noFile });
    assert.equal(r2.status, 400);
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(readdirSync(`${s.dataDir}/uploads`), []);
    assert.deepEqual(readdirSync(`${s.dataDir}/blobs/tmp`), []);
  });

  it('serves /healthz and Prometheus /metrics with device request counters', async () => {
    const h = await fetch(`${s.http}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { status: string }).status, 'ok');
    await fetch(`${s.http}/vop/i?u=up-op&p=pw`);
    const m = await (await fetch(`${s.http}/metrics`)).text();
    assert.match(m, /aps_device_requests_total\{adapter="vop",status="200"\} \d+/);
    assert.match(m, /aps_devices\{profile="vop"\} \d+/);
    assert.match(m, /aps_process_resident_memory_bytes/);
  });

  it('answers bad event query parameters with a 400 naming the parameter', async () => {
    for (const q of ['limit=abc', 'limit=1.5', 'limit=0', 'limit=1001', 'after=-1', 'since=x']) {
      const r = await api(`/events?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(((await r.json()) as { message: string }).message, new RegExp(`^${q.split('=')[0]} must be`));
    }
    const ok = await api('/events?limit=2&after=0');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { items: [], next: null }, 'no event is older than id 0');
    assert.equal((await api('/artifacts/abc', { method: 'DELETE' })).status, 404);
  });

  it('never reveals the VOP password in logs or errors: unknown routes get a plain 404', async () => {
    const r = await fetch(`${s.http}/nope?p=secret`);
    assert.equal(r.status, 404);
    assert.ok(!(await r.text()).includes('secret'));
  });
});
