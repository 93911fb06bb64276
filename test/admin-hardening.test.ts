// Review 13 (findings 4, 5, 10 and LOW items): what a revoked or read-scope token still gets, the console over
// plain HTTP, log-in forgery, admin token guessing, event stream limits, unlocks in the audit log.
// Each test failed before its fix (adapted from review13:test/review13.test.ts).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MAX_STREAMS_PER_IDENTITY } from '../src/transport/api-event-stream.ts';
import { endOnDrain, trackConnections } from '../src/transport/drain.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });
const DEVICE_CONFIG = 'config add SIP0 /user alice /pwd backup-sip-secret\r\n';

/** What a stream sends within `ms` (or until it ends): its text and whether it ended. */
async function readFor(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number): Promise<{ text: string; ended: boolean }> {
  let text = '';
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await Promise.race([reader.read(), pause(deadline - Date.now()).then(() => undefined)]);
    if (r === undefined) break;
    if (r.done) return { text, ended: true };
    text += Buffer.from(r.value).toString();
  }
  return { text, ended: false };
}

describe('review13: revoked tokens and the live event stream', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'ev1', profile: 'vop', password: 'pw-ev1' });
  });
  after(async () => s.stop());
  const record = (file: string): void => {
    s.core.events.record({ adapter: 'vop', deviceId: 'ev1', file, status: 200, ip: null, detail: file });
    s.core.events.flush();
  };

  it('a Bearer stream ends when its token is revoked (by this server), before the next event', async () => {
    const { token } = s.core.tokens.create('watcher', 'read', 'test');
    const ac = new AbortController();
    const res = await fetch(`${s.http}/api/v1/events/stream`, { headers: bearer(token), signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    record('before-revoke');
    assert.match((await readFor(reader, 2000)).text, /before-revoke/, 'control: events flow');
    s.core.tokens.revoke('watcher', 'test');
    record('after-revoke');
    const next = await readFor(reader, 1500);
    ac.abort();
    assert.ok(!next.text.includes('after-revoke'), 'an event recorded after the revocation reached the revoked token');
    assert.equal(next.ended, true, 'the stream ends');
  });

  it('a Bearer stream ends within a second when another process revokes its token (store row gone)', async () => {
    const { token } = s.core.tokens.create('watcher2', 'read', 'test');
    const ac = new AbortController();
    const res = await fetch(`${s.http}/api/v1/events/stream`, { headers: bearer(token), signal: ac.signal });
    const reader = res.body!.getReader();
    // What `aps token revoke` does in its own process: this server's AdminTokens does not see it happen.
    assert.ok(s.core.store.tokens.remove('watcher2'));
    await pause(1100);
    record('after-cli-revoke');
    const next = await readFor(reader, 1500);
    ac.abort();
    assert.ok(!next.text.includes('after-cli-revoke'));
    assert.equal(next.ended, true);
  });

  it("a console session's stream ends when the session's token is revoked", async () => {
    const { token } = s.core.tokens.create('viewer', 'read', 'test');
    const login = await fetch(`${s.http}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const ac = new AbortController();
    const res = await fetch(`${s.http}/api/v1/events/stream`, { headers: { cookie }, signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    s.core.tokens.revoke('viewer', 'test');
    record('after-session-revoke');
    const next = await readFor(reader, 1500);
    ac.abort();
    assert.ok(!next.text.includes('after-session-revoke'));
    assert.equal(next.ended, true);
  });

  it(`one identity holds at most ${MAX_STREAMS_PER_IDENTITY} streams (429 beyond); another identity still gets one`, async () => {
    const { token } = s.core.tokens.create('greedy', 'read', 'test');
    const ac = new AbortController();
    const held: Response[] = [];
    try {
      for (let i = 0; i < MAX_STREAMS_PER_IDENTITY; i++) {
        const r = await fetch(`${s.http}/api/v1/events/stream`, { headers: bearer(token), signal: ac.signal });
        assert.equal(r.status, 200);
        held.push(r);
      }
      const over = await fetch(`${s.http}/api/v1/events/stream`, { headers: bearer(token), signal: ac.signal });
      assert.equal(over.status, 429);
      assert.equal(((await over.json()) as { error: string }).error, 'too_many_requests');
      const other = await fetch(`${s.http}/api/v1/events/stream`, { headers: bearer(s.adminToken), signal: ac.signal });
      assert.equal(other.status, 200);
    } finally {
      ac.abort();
    }
    // Closed streams free their places.
    await pause(200);
    const again = new AbortController();
    const r = await fetch(`${s.http}/api/v1/events/stream`, { headers: bearer(token), signal: again.signal });
    again.abort();
    assert.equal(r.status, 200);
  });
});

describe('review13: a draining server ends event streams at once', () => {
  it('drain() ends an endOnDrain answer and cuts nothing (it waited out the whole grace before)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 3000\n\n');
      endOnDrain(res);
    });
    const drainer = trackConnections(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const reader = res.body!.getReader();
    await reader.read();
    const cut = drainer.drain(5_000);
    const end = await reader.read().then(
      (r) => (r.done ? 'ended' : 'data'),
      () => 'cut',
    );
    assert.equal(end, 'ended', 'the stream ended cleanly rather than being cut at the deadline');
    assert.equal(await cut, 0);
  });
});

describe('review13: read-scope tokens see no device secrets', () => {
  let s: TestServer;
  let read: string;
  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({
      id: 'desk-2',
      profile: 'avaya-j100',
      model: 'J179',
      mac: '00e0bb00aa02',
      password: 'desk-2-device-pw',
      vars: { SIPUSERNAME: '302', SIPPASSWORD: 'sip-secret-302' },
    });
    s.core.devices.upsert({ id: 'alice', profile: 'vop', password: 'pw-alice' }, 'create');
    await s.core.backups.put(Readable.from([Buffer.from(DEVICE_CONFIG)]), { deviceId: 'alice', name: 'alice.txt' });
    await s.core.backups.put(Readable.from([Buffer.from(DEVICE_CONFIG + 'more\r\n')]), { deviceId: 'alice', name: 'alice.txt' });
    read = s.core.tokens.create('dashboard', 'read', 'test').token;
  });
  after(async () => s.stop());
  const get = (token: string, path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${s.http}/api/v1${path}`, { ...init, headers: bearer(token) });

  it('the preview is masked for a read token whatever it asks; a full token still sees it unmasked unless ?mask=1', async () => {
    for (const q of ['', '?mask=0', '?mask=1']) {
      const r = await get(read, `/devices/desk-2/preview${q}`);
      assert.equal(r.status, 200);
      const text = await r.text();
      assert.ok(!text.includes('sip-secret-302'), `read scope sees the SIP password in clear (${q || 'no query'})`);
      assert.match(text, /\*{8}/);
    }
    assert.match(await (await get(s.adminToken, '/devices/desk-2/preview')).text(), /sip-secret-302/);
    assert.doesNotMatch(await (await get(s.adminToken, '/devices/desk-2/preview?mask=1')).text(), /sip-secret-302/);
  });

  it('a read token lists backups but cannot read, diff or restore them (403 forbidden); a full token can', async () => {
    const list = await get(read, '/devices/alice/backups');
    assert.equal(list.status, 200);
    const seqs = ((await list.json()) as Array<{ seq: number }>).map((b) => b.seq);
    assert.equal(seqs.length, 2);
    for (const [path, method] of [
      [`/devices/alice/backups/${seqs[0]}`, 'GET'],
      [`/devices/alice/backups/diff?a=${seqs[1]}&b=${seqs[0]}`, 'GET'],
      [`/devices/alice/backups/${seqs[0]}/restore`, 'POST'],
    ] as const) {
      const r = await get(read, path, { method });
      assert.equal(r.status, 403, path);
      const body = await r.text();
      assert.equal((JSON.parse(body) as { error: string }).error, 'forbidden');
      assert.ok(!body.includes('backup-sip-secret'));
    }
    assert.match(await (await get(s.adminToken, `/devices/alice/backups/${seqs[0]}`)).text(), /backup-sip-secret/);
  });
});

describe('review13: the console over plain HTTP, log-in forgery, admin token guessing', () => {
  let s: TestServer;
  let open: TestServer;
  // Front-proxy mode believes X-Forwarded-For/-Proto from a proxy on this host: a client elsewhere is simulated.
  const frontProxy = { host: '127.0.0.1', port: 0, frontProxy: { mode: 'x-accel' as const, completionPort: 0 } };
  const remote = (ip: string, proto = 'http'): Record<string, string> => ({ 'x-forwarded-for': ip, 'x-forwarded-proto': proto });
  const access = {
    exemptNetworks: '',
    address: { freeFailures: 3, lockAfter: 6 },
    backoffSeconds: 0.01,
    maxBackoffSeconds: 0.02,
    lockSeconds: 600,
  };
  const login = (base: string, token: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ token }),
      redirect: 'manual',
    });
  before(async () => {
    s = await startTestServer({ http: frontProxy, access });
    open = await startTestServer({ http: frontProxy, console: { allowHttp: true } });
  });
  after(async () => {
    await s.stop();
    await open.stop();
  });

  it('refuses the console pages and the log-in over plain HTTP to a client elsewhere (403), unless console.allowHttp', async () => {
    const page = await fetch(`${s.http}/ui/login`, { headers: remote('10.9.8.7'), redirect: 'manual' });
    assert.equal(page.status, 403);
    assert.doesNotMatch(await page.text(), /<form/, 'no form to type the token into');
    const li = await login(s.http, s.adminToken, remote('10.9.8.7'));
    assert.equal(li.status, 403);
    assert.equal(li.headers.get('set-cookie'), null);
    const form = await fetch(`${s.http}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...remote('10.9.8.7') },
      body: `token=${s.adminToken}`,
      redirect: 'manual',
    });
    assert.equal(form.status, 403);
    assert.equal(form.headers.get('set-cookie'), null);
    // HTTPS (TLS ended by the proxy), this host itself, and the opt-in are served.
    assert.equal((await fetch(`${s.http}/ui/login`, { headers: remote('10.9.8.7', 'https') })).status, 200);
    assert.equal((await login(s.http, s.adminToken, remote('10.9.8.7', 'https'))).status, 200);
    assert.equal((await fetch(`${s.http}/ui/login`)).status, 200, 'loopback');
    assert.equal((await fetch(`${open.http}/ui/login`, { headers: remote('10.9.8.7') })).status, 200);
    assert.equal((await login(open.http, open.adminToken, remote('10.9.8.7'))).status, 200);
  });

  it('a session cookie is not believed over plain HTTP from elsewhere', async () => {
    const cookie = (await login(s.http, s.adminToken)).headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { cookie } })).status, 200, 'control: from this host');
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { cookie, ...remote('10.9.8.6') } })).status, 401);
  });

  it("refuses a log-in whose Origin is another site's (login forgery); our own Origin and none are fine", async () => {
    const host = new URL(s.http).host;
    const forged = await login(s.http, s.adminToken, { origin: 'https://evil.example' });
    assert.equal(forged.status, 403);
    assert.equal(forged.headers.get('set-cookie'), null);
    assert.equal((await login(s.http, s.adminToken, { origin: 'null' })).status, 403);
    assert.equal((await login(s.http, s.adminToken, { origin: `http://${host}` })).status, 200);
    assert.equal((await login(s.http, s.adminToken)).status, 200);
  });

  it('wrong admin tokens (Bearer and log-in) are counted per address: past lockAfter even the right one gets 429', async () => {
    const ip = '10.9.8.5';
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const wrong = `aps_wrong-${i}-000000000000000000`;
      const r =
        i % 2 === 0
          ? await fetch(`${s.http}/api/v1/devices`, { headers: { ...bearer(wrong), ...remote(ip, 'https') } })
          : await login(s.http, wrong, remote(ip, 'https'));
      statuses.push(r.status);
      await pause(40);
    }
    assert.deepEqual([...new Set(statuses.slice(0, 3))], [401], 'the first failures are plain refusals');
    assert.equal(statuses.at(-1), 429);
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { ...bearer(s.adminToken), ...remote(ip, 'https') } })).status, 429);
    assert.equal((await login(s.http, s.adminToken, remote(ip, 'https'))).status, 429);
    const lock = s.core.guard.list().find((l) => l.kind === 'address' && l.subject === ip);
    assert.ok(lock?.lockedUntil, 'the address is locked');
    assert.equal(lock.adapter, 'admin');
    // Another address is not held back.
    assert.equal(
      (await fetch(`${s.http}/api/v1/devices`, { headers: { ...bearer(s.adminToken), ...remote('10.9.8.4', 'https') } })).status,
      200,
    );

    // The unlock is an audited admin change.
    const un = await fetch(`${s.http}/api/v1/access/locks/${ip}`, { method: 'DELETE', headers: bearer(s.adminToken) });
    assert.equal(un.status, 200);
    const [entry] = s.core.audit.list({ action: 'access.unlock', target: ip });
    assert.equal(entry?.who, 'config');
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { ...bearer(s.adminToken), ...remote(ip, 'https') } })).status, 200);
  });
});
