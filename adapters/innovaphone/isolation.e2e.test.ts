import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestAuthorization, simRequest } from '../../src/adapter-api.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { backupToken } from './files.ts';
import { runPoll, type SimOptions } from './simulator.ts';
import { until } from '../../test/helpers/until.ts';

// A device only ever gets its own files and writes only its own backups: devices with HTTP credentials
// cannot reach each other's files by any URL they can build, and a backup PUT naming another device, an
// oversized one and a cut-off one store nothing. Plus unknown devices (pending / refused) and host names.

const MAC_A = '00-90-33-01-02-03';
const MAC_B = '00-90-33-0a-0b-0c';
const MAX = 4096;

async function get(url: string, creds?: { user: string; password: string }): Promise<{ status: number; body: string }> {
  const first = await simRequest({ url });
  if (first.status !== 401 || !creds) return { status: first.status, body: first.body.toString('utf8') };
  const u = new URL(url);
  const auth = digestAuthorization({
    challenge: String(first.headers['www-authenticate']),
    username: creds.user,
    password: creds.password,
    method: 'GET',
    uri: u.pathname + u.search,
  });
  const r = await simRequest({ url, headers: { Authorization: auth } });
  return { status: r.status, body: r.body.toString('utf8') };
}

/** A chunked PUT that stops after `sent` bytes of a body announced as longer, then drops the connection. */
function cutPut(url: string, sent: Buffer): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname, () => {
      sock.write(`PUT ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      sock.write(`${sent.length.toString(16)}\r\n`);
      sock.write(sent);
      sock.write('\r\n1000\r\npartial', () => setImmediate(() => sock.destroy()));
    });
    sock.on('close', () => resolve());
    sock.on('error', reject);
  });
}

describe('innovaphone isolation: own files, own backups', () => {
  let s: TestServer;
  let a: SimOptions;
  let b: SimOptions;
  let backupUrlB: string;

  before(async () => {
    // Bob tries every one of alice's URLs with his credentials, and alice's right password follows: the
    // guessing back-off (test/access-guard.test.ts) is not this file's subject.
    s = await startTestServer({
      adapters: { innovaphone: { maxBackupBytes: MAX } },
      access: { exemptNetworks: '127.0.0.0/8', device: { freeFailures: 1000, lockAfter: 1000 } },
    });
    s.core.devices.upsert({
      id: 'alice',
      profile: 'innovaphone-ip232',
      mac: MAC_A,
      password: 'alice-pw',
      vars: { sip_registrar: '192.0.2.77' },
    });
    s.core.devices.upsert({ id: 'bob', profile: 'innovaphone-ip232', mac: MAC_B, password: 'bob-pw' });
    await s.core.catalog.addBuffer(Buffer.alloc(8000, 5), {
      kind: 'firmware',
      profile: 'innovaphone-ip232',
      version: '13r3-1',
      filename: 'ip232.bin',
    });
    const url = `${s.http}/innovaphone/up/#m/`;
    a = {
      url,
      product: 'IP232',
      mac: MAC_A,
      stateDir: tempDir(),
      hour: 12,
      uptimeMinutes: 60,
      credentials: { username: 'alice', password: 'alice-pw' },
    };
    b = {
      url,
      product: 'IP232',
      mac: MAC_B,
      stateDir: tempDir(),
      hour: 12,
      uptimeMinutes: 60,
      credentials: { username: 'bob', password: 'bob-pw' },
    };
    const ra = await runPoll(a);
    const rb = await runPoll(b);
    assert.equal(ra.backup?.status, 201, ra.error);
    assert.equal(rb.backup?.status, 201, rb.error);
    backupUrlB = rb.backup!.url;
  });
  after(async () => {
    await s.stop();
  });

  it('each device got its own config (Digest credentials)', async () => {
    const own = await get(`${s.http}/innovaphone/cfg/009033010203/config.txt`, { user: 'alice', password: 'alice-pw' });
    assert.equal(own.status, 200);
    assert.match(own.body, /192\.0\.2\.77/);
    assert.equal(s.core.backups.list('alice').length, 1);
    assert.equal(s.core.backups.list('bob').length, 1);
  });

  it("bob never sees alice's config, script, firmware or backups, by any URL he can build", async () => {
    const bob = { user: 'bob', password: 'bob-pw' };
    const aliceConfig = (await get(`${s.http}/innovaphone/cfg/009033010203/config.txt`, { user: 'alice', password: 'alice-pw' })).body;
    const fw = s.core.catalog.target(s.core.devices.get('alice')!, 'firmware')!;
    const urls = [
      `${s.http}/innovaphone/cfg/009033010203/config.txt`,
      `${s.http}/innovaphone/cfg/00-90-33-01-02-03/CONFIG.TXT`,
      `${s.http}/innovaphone/cfg/00903301020 3/config.txt`.replace(' ', '%20'),
      `${s.http}/innovaphone/cfg/00900a0b0c/../009033010203/config.txt`,
      `${s.http}/innovaphone/cfg/00900a0b0c/config.txt?mac=009033010203`,
      `${s.http}/innovaphone/up/009033010203/update-ip232.htm`,
      `${s.http}/innovaphone/up/00-90-33-01-02-03/IP232-01-02-03/update-IP232.htm`,
      `${s.http}/innovaphone/up/00-90-33-0a-0b-0c/IP232-01-02-03/update-ip232.htm`,
      `${s.http}/innovaphone/fw/009033010203/${fw.id}/ip232.bin`,
      `${s.http}/innovaphone/backup/009033010203/${backupToken(s.core.servicesFor('innovaphone'), 'alice')}/0/20260101-000000`,
    ];
    for (const u of urls) {
      const r = await get(u, bob);
      assert.ok(r.status !== 200 || !r.body.includes('192.0.2.77'), `${u} gave bob alice's data`);
      assert.notEqual(r.body, aliceConfig, u);
      assert.ok([401, 403, 404].includes(r.status), `${u}: ${r.status}`);
    }
    // Without credentials alice's files are refused too: she has a password.
    assert.equal((await get(urls[0]!)).status, 401);
  });

  it("a PUT naming alice with bob's backup URL (his token) stores nothing", async () => {
    const forged = backupUrlB.replace('/00-90-33-0a-0b-0c/', '/00-90-33-01-02-03/');
    const auth = await simRequest({ url: forged, method: 'PUT', body: 'config change CMD0 /name evil\r\n' });
    assert.equal(auth.status, 401, 'alice has a password');
    // Even when alice's password is known, bob's token is not hers.
    const sim = await import('./simulator-http.ts');
    const status = await sim.simPutChunked(
      { credentials: { username: 'alice', password: 'alice-pw' } },
      forged,
      Buffer.from('config change CMD0 /name evil\r\n'),
    );
    assert.equal(status, 403);
    assert.equal(s.core.backups.list('alice').length, 1);
    assert.equal(s.core.backups.list('bob').length, 1);
  });

  it('an oversized PUT gets 413 and stores nothing', async () => {
    const sim = await import('./simulator-http.ts');
    const status = await sim.simPutChunked(
      { credentials: { username: 'bob', password: 'bob-pw' } },
      backupUrlB,
      Buffer.alloc(MAX + 1, 0x41),
    );
    assert.equal(status, 413);
    assert.equal(s.core.backups.list('bob').length, 1);
  });

  it("a PUT from outside the group's backup_allow_ips stores nothing; from inside it is stored", async () => {
    s.core.devices.upsertGroup({ name: 'lab', vars: { backup_allow_ips: '10.0.0.0/8, 192.0.2.1' }, pins: {} });
    s.core.devices.upsert({ id: 'dave', profile: 'innovaphone-ip232', mac: '00-90-33-0d-0d-0d', group: 'lab' });
    const url = `${s.http}/innovaphone/backup/00-90-33-0d-0d-0d/${backupToken(s.core.servicesFor('innovaphone'), 'dave')}/0/20260101-000000`;
    assert.equal((await simRequest({ url, method: 'PUT', body: 'config change CMD0 /name dave\r\n' })).status, 403);
    assert.equal(s.core.backups.list('dave').length, 0);
    s.core.devices.upsertGroup({ name: 'lab', vars: { backup_allow_ips: '10.0.0.0/8,127.0.0.0/8' }, pins: {} });
    assert.equal((await simRequest({ url, method: 'PUT', body: 'config change CMD0 /name dave\r\n' })).status, 201);
    assert.equal(s.core.backups.list('dave').length, 1);
  });

  it('a cut-off PUT stores nothing and leaves no temp file', async () => {
    // A device without a password, so the raw PUT needs no Digest round trip.
    s.core.devices.upsert({ id: 'carol', profile: 'innovaphone-ip232', mac: '00-90-33-0c-0c-0c' });
    const token = backupToken(s.core.servicesFor('innovaphone'), 'carol');
    const url = `${s.http}/innovaphone/backup/00-90-33-0c-0c-0c/${token}/0/20260101-000000`;
    await cutPut(url, Buffer.from('config change CMD0 /name carol\r\n'));
    const tmp = join(s.dataDir, 'backups', 'tmp');
    await until('the cut-off upload was cleaned up', () => readdirSync(tmp).length === 0);
    s.core.events.flush();
    assert.equal(s.core.backups.list('carol').length, 0);
    // The same URL with a whole body works: the refusal was the cut, not the URL.
    const whole = await simRequest({ url, method: 'PUT', body: 'config change CMD0 /name carol\r\n' });
    assert.equal(whole.status, 201);
    assert.equal(s.core.backups.list('carol').length, 1);
  });
});

describe('innovaphone unknown devices and host names', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.stop();
  });

  it('an unknown device of a known product registers as pending and gets only the product-wide script until approved', async () => {
    await s.core.catalog.addBuffer(Buffer.alloc(6000, 6), {
      kind: 'firmware',
      profile: 'innovaphone-ip72',
      version: '13r3-72',
      filename: 'ip72.bin',
    });
    const o: SimOptions = {
      url: `${s.http}/innovaphone/up/#m/#h/`,
      product: 'IP72',
      mac: '00-90-33-72-72-72',
      stateDir: tempDir(),
      hour: 12,
      uptimeMinutes: 60,
    };
    const r = await runPoll(o);
    assert.equal(r.ok, true, r.error);
    const d = s.core.devices.getByMac('009033727272')!;
    assert.equal(d.status, 'pending');
    assert.equal(d.profile, 'innovaphone-ip72');
    assert.deepEqual(r.loaded, { firmware: '13r3-72' });
    assert.ok(r.executed.includes('mod cmd WLANMGR0 activate-pwr'), 'IP72: power save off around the download');
    assert.ok(!r.executed.some((l) => / cfg | scfg /.test(l)), 'no config, no backup while pending');
    assert.equal((await simRequest({ url: `${s.http}/innovaphone/cfg/009033727272/config.txt` })).status, 403);
    s.core.devices.upsert({ id: d.id, status: 'active' }, 'update');
    const approved = await runPoll(o);
    assert.equal(approved.ok, true, approved.error);
    assert.ok(approved.loaded.config);
    assert.equal(approved.backup?.status, 201);
  });

  it('a product no profile serves is refused and not registered', async () => {
    const r = await simRequest({ url: `${s.http}/innovaphone/up/00-90-33-99-99-99/update-ip9999.htm` });
    assert.equal(r.status, 401);
    assert.equal(s.core.devices.getByMac('009033999999'), undefined);
  });

  it('refuseUnknown: an unknown MAC is refused, not registered', async () => {
    const strict = await startTestServer({ adapters: { innovaphone: { refuseUnknown: true } } });
    try {
      const r = await simRequest({ url: `${strict.http}/innovaphone/up/00-90-33-55-55-55/update-ip232.htm` });
      assert.equal(r.status, 401);
      assert.equal(strict.core.devices.getByMac('009033555555'), undefined);
    } finally {
      await strict.stop();
    }
  });

  it('a public URL naming a host: refused naming adapters.innovaphone.address, or that address in every URL', async () => {
    const named = await startTestServer({ publicUrl: 'http://aps.example.net:8080' });
    try {
      named.core.devices.upsert({ id: 'dan', profile: 'innovaphone-ip811', mac: '00-90-33-81-18-11' });
      const r = await simRequest({ url: `${named.http}/innovaphone/up/009033811811/update-ip811.htm` });
      assert.equal(r.status, 500);
      assert.ok(!r.body.toString().includes('aps.example.net'), 'the device is told nothing');
      const show = await fetch(`${named.http}/api/v1/devices/dan`, { headers: { authorization: named.auth } });
      assert.match(await show.text(), /adapters\.innovaphone\.address/);
    } finally {
      await named.stop();
    }
    const addressed = await startTestServer({
      publicUrl: 'http://aps.example.net:8080',
      adapters: { innovaphone: { address: '192.0.2.10' } },
    });
    try {
      addressed.core.devices.upsert({ id: 'dan', profile: 'innovaphone-ip811', mac: '00-90-33-81-18-11' });
      const r = await simRequest({ url: `${addressed.http}/innovaphone/up/009033811811/update-ip811.htm` });
      assert.equal(r.status, 200);
      const urls = r.body.toString().match(/https?:\/\/[^ ]+/g) ?? [];
      assert.ok(urls.length >= 2);
      for (const u of urls) assert.ok(u.startsWith('http://192.0.2.10:8080/innovaphone/'), u);
    } finally {
      await addressed.stop();
    }
  });
});
