import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'basic-ftp';
import { simRequest, type SimResponse } from '../src/adapter-api.ts';
import { apsCli } from './helpers/cli.ts';
import { capturingLogger } from './helpers/log-capture.ts';
import { unlockAccess } from '../src/admin/access-unlock.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

// Issue 13, defect 2: password guessing was unlimited (4,000 wrong Basic passwords in 1.33 s for one
// AudioCodes device, the right one accepted straight after; 20 wrong FTP logins in 0.03 s; a log line and
// an event row per refusal). Now failures are counted per device and per address: past the free ones each
// try waits a back-off, then the subject is locked (even the right password is refused) until it expires
// or an admin clears it (`aps access unlock`, DELETE /api/v1/access/locks/:subject).
const PROFILE = 'audiocodes-mp124';
const GW = { id: 'gw-guard', mac: '00908FBB0001', password: 'right-pw-1' };
const OTHER = { id: 'gw-other', mac: '00908FBB0002', password: 'right-pw-2' };
const BACKOFF_S = 0.05;
const MAX_BACKOFF_S = 0.15;
const pause = (s: number): Promise<void> => new Promise((r) => setTimeout(r, s * 1000));
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('failed logins: back-off, lock, admin unlock', () => {
  let s: TestServer;
  const { log, lines } = capturingLogger('info');
  const cli = apsCli(() => ({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'warn' }));
  const get = (dev: { mac: string }, password: string): Promise<SimResponse> =>
    simRequest({ url: `${s.http}/audiocodes/${dev.mac}.ini`, headers: { Authorization: basic(dev.mac, password) } });
  const api = async (method: string, path: string): Promise<{ status: number; body: unknown }> => {
    const r = await fetch(`${s.http}/api/v1${path}`, { method, headers: { Authorization: s.auth } });
    return { status: r.status, body: await r.json() };
  };
  const events = (): Array<{ deviceId: string | null; file: string; detail: string | null }> => {
    s.core.events.flush();
    return s.core.store.state.events({ limit: 1000 });
  };

  before(async () => {
    s = await startTestServer(
      {
        access: {
          exemptNetworks: '',
          device: { freeFailures: 3, lockAfter: 6 },
          address: { freeFailures: 1000, lockAfter: 1000 },
          backoffSeconds: BACKOFF_S,
          maxBackoffSeconds: MAX_BACKOFF_S,
          lockSeconds: 600,
          refusalsLoggedPerMinute: 1000,
        },
      },
      undefined,
      log,
    );
    for (const d of [GW, OTHER]) s.core.devices.upsert({ ...d, profile: PROFILE });
  });
  after(async () => {
    await s.stop();
  });

  it('backs off after the free failures: even the right password waits; then it is accepted and the count forgotten', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get(GW, `wrong-${i}`)).status, 401);
    assert.equal((await get(GW, GW.password)).status, 401, 'backing off: not even checked');
    await pause(MAX_BACKOFF_S + 0.05);
    assert.equal((await get(GW, GW.password)).status, 200, 'after the back-off');
    assert.deepEqual(
      s.core.guard.list().filter((l) => l.subject === GW.id),
      [],
      'a success forgets the device',
    );
  });

  it('locks after lockAfter failures: the right password is refused; listed, and cleared by aps access unlock', async () => {
    for (let i = 0; i < 6; i++) {
      assert.equal((await get(GW, `guess-${i}`)).status, 401);
      await pause(MAX_BACKOFF_S + 0.02);
    }
    assert.equal((await get(GW, GW.password)).status, 401, 'locked: the right password too');
    const listed = await api('GET', '/access/locks');
    assert.equal(listed.status, 200);
    const lock = (listed.body as Array<{ kind: string; subject: string; failures: number; lockedUntil: string | null }>).find(
      (l) => l.subject === GW.id,
    );
    assert.equal(lock?.kind, 'device');
    assert.equal(lock?.failures, 6);
    assert.ok(lock?.lockedUntil && Date.parse(lock.lockedUntil) > Date.now());
    assert.ok(
      events().some((e) => e.deviceId === GW.id && e.file === 'access' && /locked for 600 s after 6 failed logins/.test(String(e.detail))),
      'the lock is an event',
    );
    assert.ok(
      lines.some((l) => l.level === 40 && String(l.msg).includes('aps access unlock gw-guard')),
      'and a warning naming the fix',
    );

    const metrics = await (await fetch(`${s.http}/metrics`)).text();
    assert.match(metrics, /^aps_access_locked\{kind="device"\} 1$/m);
    const { stdout } = await cli.aps('access', 'locks', '--json');
    assert.ok((JSON.parse(stdout) as Array<{ subject: string }>).some((l) => l.subject === GW.id));
    // Another process clears it; the running server sees it at once.
    assert.match((await cli.aps('access', 'unlock', GW.id)).stdout, /cleared/);
    assert.equal((await get(GW, GW.password)).status, 200);
    await cli.fails(['access', 'unlock', GW.id], /no failed logins on record for gw-guard/);
  });

  it('FTP logins count the same way: past the free failures the right password is refused too', async () => {
    const login = async (password: string): Promise<number> => {
      const c = new Client(5000);
      try {
        await c.access({ host: '127.0.0.1', port: s.ftpPort!, user: OTHER.id, password });
        return 230;
      } catch (e) {
        return (e as { code?: number }).code ?? 0;
      } finally {
        c.close();
      }
    };
    for (let i = 0; i < 3; i++) assert.equal(await login(`ftp-wrong-${i}`), 530);
    assert.equal(await login(OTHER.password), 530, 'backing off');
    assert.equal(s.core.guard.list().find((l) => l.subject === OTHER.id)?.adapter, 'audiocodes');
    const cleared = await api('DELETE', `/access/locks/${OTHER.id}`);
    assert.deepEqual(cleared, { status: 200, body: { subject: OTHER.id, cleared: 1 } });
    assert.equal(await login(OTHER.password), 230);
    assert.equal((await api('DELETE', `/access/locks/${OTHER.id}`)).status, 404);
  });
});

describe('parallel guesses', () => {
  let s: TestServer;
  before(async () => {
    // A long back-off: whatever the machine's speed, no second period starts during the burst.
    s = await startTestServer({ access: { exemptNetworks: '', device: { freeFailures: 3, lockAfter: 100 }, backoffSeconds: 60 } });
    s.core.devices.upsert({ ...OTHER, profile: PROFILE });
  });
  after(async () => {
    await s.stop();
  });

  it('cannot slip past the back-off together: only the free tries are checked', async () => {
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        simRequest({ url: `${s.http}/audiocodes/${OTHER.mac}.ini`, headers: { Authorization: basic(OTHER.mac, `parallel-${i}`) } }),
      ),
    );
    assert.ok(all.every((r) => r.status === 401));
    const rec = s.core.guard.list().find((l) => l.subject === OTHER.id);
    assert.equal(rec?.failures, 3);
    assert.ok(rec.backoffUntil, 'and the device now backs off');
  });
});

describe('failed logins per client address', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      access: {
        exemptNetworks: '',
        device: { freeFailures: 1000, lockAfter: 1000 },
        address: { freeFailures: 2, lockAfter: 4 },
        backoffSeconds: 0.02,
        maxBackoffSeconds: 0.05,
        lockSeconds: 600,
      },
    });
    s.core.devices.upsert({ ...GW, profile: PROFILE });
  });
  after(async () => {
    await s.stop();
  });

  it('guessing names from one address locks the address for every device; the admin clears it', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await simRequest({ url: `${s.http}/vop/i?u=nobody-${i}&p=x` });
      assert.equal(r.status, 401);
      await pause(0.08);
    }
    const ok = (): Promise<SimResponse> =>
      simRequest({ url: `${s.http}/audiocodes/${GW.mac}.ini`, headers: { Authorization: basic(GW.id, GW.password) } });
    assert.equal((await ok()).status, 401, 'the address is locked, whichever device it names');
    const lock = s.core.guard.list().find((l) => l.kind === 'address');
    assert.equal(lock?.subject, '127.0.0.1');
    assert.ok(lock?.lockedUntil);
    // The lock holds the admin API back from that address too (admin logins go through the same guard):
    // cleared from another door, here the operation `aps access unlock` runs.
    const r = await fetch(`${s.http}/api/v1/access/locks/127.0.0.1`, { method: 'DELETE', headers: { Authorization: s.auth } });
    assert.equal(r.status, 429);
    assert.equal(unlockAccess(s.core, '127.0.0.1', 'test'), 1);
    assert.equal((await ok()).status, 200);
  });
});

describe('refusal logging is rate-limited per address', () => {
  it('the first refusals of a minute are logged one by one; the rest are summed up in one line and one event', async () => {
    const { log, lines } = capturingLogger('info');
    const s = await startTestServer({ access: { exemptNetworks: '127.0.0.0/8 ::1', refusalsLoggedPerMinute: 3 } }, undefined, log);
    try {
      for (let i = 0; i < 12; i++) assert.equal((await simRequest({ url: `${s.http}/vop/i?u=ghost&p=${i}` })).status, 401);
      s.core.events.flush();
      const before = s.core.store.state.events({ limit: 100 });
      assert.equal(before.length, 3, 'three events, not twelve');
      assert.equal(lines.filter((l) => l.msg === 'device request refused').length, 3);
      s.core.refusals.flush(true);
      s.core.events.flush();
      const summary = s.core.store.state.events({ limit: 100 }).find((e) => e.file === 'refusals');
      assert.match(String(summary?.detail), /^12 refusals from 127\.0\.0\.1 in the last minute \(9 not logged one by one/);
      assert.ok(lines.some((l) => l.refusals === 12 && l.summed === 9 && l.ip === '127.0.0.1'));
    } finally {
      await s.stop();
    }
  });
});
