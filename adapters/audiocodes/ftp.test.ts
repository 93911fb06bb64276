import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Client } from 'basic-ftp';
import { simRequest } from '../../src/adapter-api.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';

// The device tree over the core's ftp-srv with a real client (basic-ftp): read-only, no path outside
// the device's own view, same bytes as HTTP, mtime = HTTP Last-Modified, and no reply naming a server path.
const PROFILE = 'audiocodes-mp11x';
const A = { id: 'ftp-a', mac: '00908F000001', password: 'pw-a-123' };
const B = { id: 'ftp-b', mac: '00908F000002', password: 'pw-b-456' };

function sink(): { w: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  return {
    w: new Writable({
      write(c: Buffer, _e, cb): void {
        chunks.push(c);
        cb();
      },
    }),
    bytes: () => Buffer.concat(chunks),
  };
}

describe('AudioCodes over FTP', () => {
  let s: TestServer;
  let client: Client;
  const replies: string[] = [];

  async function login(user: string, password: string): Promise<Client> {
    const c = new Client(5000);
    c.ftp.verbose = true;
    c.ftp.log = (m: string): void => void replies.push(m);
    await c.access({ host: '127.0.0.1', port: s.ftpPort!, user, password });
    return c;
  }

  async function refused(p: Promise<unknown>, pattern = /^5\d\d$/): Promise<string> {
    const e = await p.then(
      () => null,
      (err: { code?: number; message: string }) => err,
    );
    assert.ok(e, 'the command must fail');
    assert.match(String(e.code), pattern);
    return e.message;
  }

  before(async () => {
    // The adapter allows anonymous FTP but the core's ftp.anonymous is off (the default): the core wins.
    s = await startTestServer({ adapters: { audiocodes: { ftpAnonymous: true } } });
    for (const d of [A, B]) s.core.devices.upsert({ id: d.id, profile: PROFILE, mac: d.mac, model: 'MP-114', password: d.password });
    await s.core.catalog.addBuffer(Buffer.alloc(70_000, 3), {
      kind: 'firmware',
      profile: PROFILE,
      version: '6.60A.360.002',
      filename: 'MP11x.cmp',
    });
    await s.core.catalog.addBuffer(Buffer.from('cpt bytes'), {
      kind: 'aux',
      role: 'cpt',
      profile: PROFILE,
      version: '1',
      filename: 'cpt.dat',
    });
    client = await login(A.id, A.password);
  });
  after(async () => {
    client.close();
    await s.stop();
  });

  it("lists only the device's own tree", async () => {
    const root = (await client.list('/')).map((e) => e.name).sort();
    assert.deepEqual(root, [A.mac, `${A.mac}.ini`]);
    const sub = (await client.list(`/${A.mac}`)).map((e) => e.name).sort();
    assert.deepEqual(sub, ['aux', 'cmp']);
  });

  it('serves the same bytes as HTTP, with mtime equal to Last-Modified', async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`${A.id}:${A.password}`).toString('base64')}` };
    const http = await simRequest({ url: `${s.http}/audiocodes/${A.mac}.ini`, headers: auth });
    assert.equal(http.status, 200);
    const out = sink();
    await client.downloadTo(out.w, `/${A.mac}.ini`);
    assert.deepEqual(out.bytes(), http.body);
    const mtime = await client.lastMod(`/${A.mac}.ini`);
    assert.equal(mtime.toUTCString(), http.headers['last-modified']);

    const [cmpName] = (await client.list(`/${A.mac}/cmp`)).map((e) => e.name);
    const cmpHttp = await simRequest({ url: `${s.http}/audiocodes/${A.mac}/cmp/${cmpName}`, headers: auth });
    const cmp = sink();
    await client.downloadTo(cmp.w, `/${A.mac}/cmp/${cmpName}`);
    assert.deepEqual(cmp.bytes(), cmpHttp.body);
    assert.equal((await client.lastMod(`/${A.mac}/cmp/${cmpName}`)).toUTCString(), cmpHttp.headers['last-modified']);
    // A CWD then a relative name reaches the same file.
    await client.cd(`/${A.mac}/cmp`);
    const rel = sink();
    await client.downloadTo(rel.w, cmpName!);
    assert.equal(rel.bytes().length, 70_000);
    await client.cd('/');
  });

  it('finds the MAC in any case and spelling, as HTTP does', async () => {
    const want = sink();
    await client.downloadTo(want.w, `/${A.mac}.ini`);
    for (const p of [
      '/00908f000001.ini',
      '/00-90-8f-00-00-01.ini',
      '/cfg_00:90:8F:00:00:01.ini',
      '00908f000001.INI',
      '/00_90_8F_00_00_01.ini',
    ]) {
      const got = sink();
      await client.downloadTo(got.w, p);
      assert.deepEqual(got.bytes(), want.bytes(), p);
    }
    const [cmpName] = (await client.list(`/${A.mac.toLowerCase()}/cmp`)).map((e) => e.name);
    const cmp = sink();
    await client.downloadTo(cmp.w, `/00-90-8f-00-00-01/cmp/${cmpName}`);
    assert.equal(cmp.bytes().length, 70_000);
  });

  it('never leaves the view: traversal, encoded dots, absolute server paths, another device', async () => {
    const other = [
      `/${B.mac}.ini`,
      `../${B.mac}.ini`,
      '/00908f000002.ini',
      '/00-90-8F-00-00-02.ini',
      `/cfg_${B.mac}.ini`,
      `/${B.mac.toLowerCase()}/cmp/MP11x_6.60A.360.002.cmp`,
    ];
    for (const p of [
      '../../etc/passwd',
      '/../../etc/passwd',
      '/..',
      '..%2f..%2fetc%2fpasswd',
      '/etc/passwd',
      `${s.dataDir}/aps.db`,
      '\\..\\..\\etc\\passwd',
      ...other,
    ]) {
      await refused(client.downloadTo(sink().w, p));
    }
    await refused(client.cd(`/${B.mac}`));
    await client.cd('..');
    assert.equal(await client.pwd(), '/', 'cd .. at the root stays at the root');
    await client.cd('/../..');
    assert.equal(await client.pwd(), '/');
    await refused(client.cd('/etc'));
    await refused(client.cd(s.dataDir));
  });

  it('is read-only', async () => {
    const { Readable } = await import('node:stream');
    await refused(client.uploadFrom(Readable.from([Buffer.from('x')]), '/evil.ini'));
    await refused(client.ensureDir('/newdir'));
    await refused(client.remove(`/${A.mac}.ini`));
    await refused(client.rename(`/${A.mac}.ini`, '/x.ini'));
  });

  it("refuses a wrong password, and anonymous login while the core's ftp.anonymous is off", async () => {
    await refused(login(A.id, 'wrong'), /^530$/);
    await refused(login('anonymous', 'guest@'), /^530$/);
    // The MAC works as the login name too.
    const byMac = await login(A.mac.toLowerCase(), A.password);
    assert.ok((await byMac.list('/')).some((e) => e.name === `${A.mac}.ini`));
    byMac.close();
  });

  it("setup.ftpUrl carries the login the README documents, and that URL fetches the device's ini", async () => {
    const res = await fetch(`${s.http}/api/v1/devices/${A.id}`, { headers: { Authorization: s.auth } });
    const { setup } = (await res.json()) as { setup: { ftpUrl: string } };
    assert.equal(setup.ftpUrl, `ftp://${A.id}:PASSWORD@127.0.0.1:${s.ftpPort}/<MAC>.ini`);
    assert.ok(!setup.ftpUrl.includes(A.password), 'setup never shows the password');
    // What the admin does with it: PASSWORD and <MAC> filled in (the gateway fills <MAC>).
    const u = new URL(setup.ftpUrl.replace('PASSWORD', A.password).replace('<MAC>', A.mac));
    const c = await login(decodeURIComponent(u.username), decodeURIComponent(u.password));
    try {
      const got = sink();
      await c.downloadTo(got.w, u.pathname);
      assert.match(got.bytes().toString('utf8'), /IniFileURL/);
    } finally {
      c.close();
    }
    // A device without a password has no login to show.
    s.core.devices.upsert({ id: 'ftp-nopw', profile: PROFILE, mac: '00908F000003', model: 'MP-114' });
    const open = (await (await fetch(`${s.http}/api/v1/devices/ftp-nopw`, { headers: { Authorization: s.auth } })).json()) as {
      setup: { ftpUrl: string };
    };
    assert.equal(open.setup.ftpUrl, `ftp://127.0.0.1:${s.ftpPort}/<MAC>.ini`);
  });

  it('no reply reveals a server path', () => {
    assert.ok(replies.length > 20, 'the client logged the server replies');
    // basic-ftp logs its own commands with "> " (they name paths on purpose); check what the server said.
    for (const r of replies.filter((x) => !x.startsWith('>'))) {
      assert.ok(!r.includes(s.dataDir), `reply names the data folder: ${r}`);
      assert.ok(!/\/(tmp|work|home|root|usr)\//.test(r.replace(/etc\/passwd/g, '')), `reply names a server path: ${r}`);
    }
  });
});

describe('AudioCodes over anonymous FTP (configured)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      ftp: { enabled: true, port: 0, pasvMin: 41000, pasvMax: 41999, anonymous: true },
      adapters: { audiocodes: { ftpAnonymous: true } },
    });
    s.core.devices.upsert({ id: 'anon-open', profile: PROFILE, mac: '00908F0000A1' });
    s.core.devices.upsert({ id: 'anon-locked', profile: PROFILE, mac: '00908F0000A2', password: 'locked-pw' });
  });
  after(async () => {
    await s.stop();
  });

  it('serves /<MAC>.ini of a device without a password, lists nothing, hides devices with one', async () => {
    const c = new Client(5000);
    await c.access({ host: '127.0.0.1', port: s.ftpPort!, user: 'anonymous', password: 'guest@' });
    try {
      assert.deepEqual(await c.list('/'), [], 'no MAC is revealed by listing');
      const out = sink();
      await c.downloadTo(out.w, '/00908F0000A1.ini');
      assert.match(out.bytes().toString('utf8'), /IniFileURL = 'http:\/\/127\.0\.0\.1:\d+\/audiocodes\/00908F0000A1\.ini'/);
      const lower = sink();
      await c.downloadTo(lower.w, '/00908f0000a1.ini');
      assert.deepEqual(lower.bytes(), out.bytes(), 'the MAC in any case');
      await assert.rejects(c.downloadTo(sink().w, '/00908F0000A2.ini'));
      await assert.rejects(c.downloadTo(sink().w, '/00908f0000a2.ini'));
      await assert.rejects(c.downloadTo(sink().w, '/00908F0000FF.ini'));
    } finally {
      c.close();
    }
  });
});
