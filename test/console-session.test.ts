import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConsoleSessions } from '../src/transport/console-session.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const who = { name: 'ops', scope: 'full' } as const;
const cookieOf = (id: string): { headers: { cookie: string } } => ({ headers: { cookie: `aps_session=${id}` } }) as const;

describe('console sessions (memory, expiry)', () => {
  it('end after the idle time unless used, and after the absolute time whatever the use', () => {
    let now = 0;
    const s = new ConsoleSessions((t) => (t === 'tok' ? who : undefined), { idleMs: 1000, maxMs: 2500, now: () => now });
    const { id, expiresAt } = s.create('tok', 'ops');
    assert.equal(expiresAt, new Date(1000).toISOString());
    const req = cookieOf(id) as never;
    now = 900;
    assert.equal(s.fromRequest(req)?.name, 'ops', 'used within the idle time: lives on');
    now = 1800;
    assert.ok(s.fromRequest(req), 'the use at 900 moved the idle end to 1900');
    now = 2600;
    assert.equal(s.fromRequest(req), undefined, 'past the absolute end');
    assert.equal(s.identity(id), undefined);
    const other = s.create('tok', 'ops').id;
    now += 1001;
    assert.equal(s.fromRequest(cookieOf(other) as never), undefined, 'idle too long');
  });

  it("keep at most maxPerToken per token, dropping its oldest, never another token's; unknown and destroyed ids are nothing", () => {
    const tokens: Record<string, { name: string; scope: 'full' | 'read' }> = { tok: who, other: { name: 'dash', scope: 'read' } };
    const s = new ConsoleSessions((t) => tokens[t], { maxPerToken: 2 });
    const theirs = s.create('other', 'dash').id;
    const a = s.create('tok', 'ops').id;
    const b = s.create('tok', 'ops').id;
    const c = s.create('tok', 'ops').id;
    for (let i = 0; i < 50; i++) s.create('tok', 'ops');
    assert.equal(s.identity(a), undefined);
    assert.ok(s.identity(theirs), "logging in again and again with one token never ends another token's session");
    const d = s.create('tok', 'ops').id;
    const e = s.create('tok', 'ops').id;
    assert.equal(s.identity(c), undefined);
    assert.ok(s.identity(d) && s.identity(e));
    s.destroy(d);
    assert.equal(s.fromRequest(cookieOf(d) as never), undefined);
    assert.equal(s.fromRequest(cookieOf('made-up') as never), undefined);
    assert.notEqual(b, c);
    assert.match(e, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
  });
});

describe('console login, cookie auth and CSRF over HTTP', () => {
  let s: TestServer;
  let cookie: string;
  const login = (token: string, base = s.http): Promise<Response> =>
    fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'op1', profile: 'vop', password: 'pw-op1' });
  });
  after(async () => {
    await s.stop();
  });

  it('exchanges the admin token for an HttpOnly, SameSite=Strict cookie (Secure over HTTPS only)', async () => {
    const bad = await login('wrong-token-0000000000');
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('set-cookie'), null);
    const r = await login(s.adminToken);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { name: string; scope: string; expiresAt: string };
    assert.deepEqual([body.name, body.scope], ['config', 'full'], 'the configured token');
    assert.ok(Date.parse(body.expiresAt) > Date.now());
    const set = r.headers.get('set-cookie')!;
    assert.match(set, /^aps_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.ok(!set.includes(s.adminToken));
    cookie = set.split(';')[0]!;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const tls = await login(s.adminToken, s.https);
      assert.match(tls.headers.get('set-cookie')!, /; Secure; SameSite=Strict$|; Secure;/);
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    }
  });

  it("a read token's session reads but changes nothing, as the token itself", async () => {
    const made = s.core.tokens.create('viewer', 'read', 'test');
    const r = await login(made.token);
    assert.equal(r.status, 200);
    const viewer = r.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { cookie: viewer } })).status, 200);
    const change = await fetch(`${s.http}/api/v1/devices/op1`, {
      method: 'PATCH',
      headers: { cookie: viewer, 'x-aps-console': '1', 'content-type': 'application/json' },
      body: JSON.stringify({ group: 'x' }),
    });
    assert.equal(change.status, 403);
    assert.equal(s.core.devices.get('op1')!.group, null);
    // Revoking the token ends its sessions at once.
    s.core.tokens.revoke('viewer', 'test');
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { cookie: viewer } })).status, 401);
  });

  it('the login form gets a redirect to /ui/, or the login page again with the reason', async () => {
    const form = (token: string): Promise<Response> =>
      fetch(`${s.http}/api/v1/session`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
    const ok = await form(s.adminToken);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/ui/');
    const bad = await form('nope');
    assert.equal(bad.status, 401);
    assert.match(await bad.text(), /That is not an admin token/);
  });

  it('a cookie reads the API; a change needs the CSRF header and our own origin; Bearer needs neither', async () => {
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { cookie } })).status, 200);
    const patch = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${s.http}/api/v1/devices/op1`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ group: 'lab' }),
      });
    const forged = await patch({ cookie });
    assert.equal(forged.status, 403);
    assert.match(((await forged.json()) as { message: string }).message, /x-aps-console/);
    assert.equal((await patch({ cookie, 'x-aps-console': '1', origin: 'http://evil.example' })).status, 403);
    assert.equal((await patch({ cookie, 'x-aps-console': '1', origin: 'null' })).status, 403);
    assert.equal(s.core.devices.get('op1')!.group, null, 'nothing changed');
    assert.equal((await patch({ cookie, 'x-aps-console': '1', origin: s.http })).status, 200);
    assert.equal((await patch({ authorization: s.auth })).status, 200);
    assert.equal((await fetch(`${s.http}/api/v1/session`, { headers: { cookie } })).status, 200);
  });

  it('serves /ui only with a session: the login page for everyone, the app with hashed assets cached for a year', async () => {
    const anon = await fetch(`${s.http}/ui/devices/op1`, { redirect: 'manual' });
    assert.equal(anon.status, 303);
    assert.equal(anon.headers.get('location'), '/ui/login');
    const loginPage = await fetch(`${s.http}/ui/login`);
    assert.equal(loginPage.status, 200);
    assert.match(loginPage.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.match(await loginPage.text(), /<label for="token">Admin token<\/label>/);
    const app = await fetch(`${s.http}/ui/devices/op1`, { headers: { cookie } });
    assert.equal(app.status, 200, 'the SPA fallback');
    assert.equal((await fetch(`${s.http}/ui`, { headers: { cookie } })).status, 200);
    assert.equal(app.headers.get('cache-control'), 'no-cache');
    const html = await app.text();
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${s.http}${asset}`, { headers: { cookie } });
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control')!, /max-age=31536000, immutable/);
    assert.equal(js.headers.get('content-encoding'), 'gzip', 'the precompressed copy');
    assert.match(js.headers.get('content-type')!, /^text\/javascript/);
    assert.match(await js.text(), /preact|createElement|useState|\bfunction\b/, 'decoded by fetch: JavaScript');
    const plain = await fetch(`${s.http}${asset}`, { headers: { cookie, 'accept-encoding': 'identity' } });
    assert.equal(plain.headers.get('content-encoding'), null);
    assert.equal((await fetch(`${s.http}${asset}`, { redirect: 'manual' })).status, 303, 'no session, no app code');
  });

  it('streams events as server-sent events to a session, and ends the session on logout', async () => {
    const ac = new AbortController();
    const stream = await fetch(`${s.http}/api/v1/events/stream?device=op1`, { headers: { cookie }, signal: ac.signal });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type')!, /^text\/event-stream/);
    const reader = stream.body!.getReader();
    await fetch(`${s.http}/vop/i?u=op1&p=pw-op1`);
    let text = '';
    while (!text.includes('event: device')) text += new TextDecoder().decode((await reader.read()).value);
    const data = JSON.parse(/data: (.+)\n/.exec(text)![1]!) as { deviceId: string; adapter: string; status: number };
    assert.deepEqual([data.deviceId, data.adapter, data.status], ['op1', 'vop', 200]);
    ac.abort();

    assert.equal(
      (await fetch(`${s.http}/api/v1/session`, { method: 'DELETE', headers: { cookie } })).status,
      403,
      'logout needs the header',
    );
    const out = await fetch(`${s.http}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-aps-console': '1' } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie')!, /^aps_session=; Max-Age=0;/);
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { cookie } })).status, 401);
    assert.equal((await fetch(`${s.http}/api/v1/events/stream`, { headers: { cookie } })).status, 401);
  });
});
