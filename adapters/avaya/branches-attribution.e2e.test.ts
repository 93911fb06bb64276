// Per-phone IF $MACADDR branches, found by review 18 (real server, the Avaya simulator, real SQLite): a release
// reported with dots, a download across a window's end, a phone with no model, a forgotten address.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isApsError } from '../../src/adapter-api.ts';
import { api, fetchedArtifact } from '../../test/helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { until } from '../../test/helpers/until.ts';
import { NIGHTLY, TestClock, profilesWith } from '../../test/helpers/windows.ts';
import { bootPhone } from './simulator.ts';
import { M96, NEW96, OLD96, P96, fetchOwnFile, firmware, phoneOnOld96 } from './test-phones.ts';

/** The part of GET /fleet these tests read (src/devices/fleet.ts FleetView; adapters may not import it). */
interface FleetView {
  devices: Array<{ id: string; version: string | null; target: string | null; behind: boolean }>;
}

const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

describe('fleet view: a J100 phone reporting its release with dots, on its target', () => {
  const PHONE = { id: 'desk-fleet', mac: 'c81fea9b6501', password: 'pw' };
  let s: TestServer;

  before(async () => {
    s = await startTestServer({ profilesDir: profilesWith({}) });
    s.core.devices.upsert({ ...PHONE, profile: 'avaya-j100', model: 'J179' });
    // The version as an admin writes it (dots), the file under its vendor name.
    await firmware(s, 'avaya-j100', 'J179', 'FW_S_J179_R4_1_1_0_7.bin', 1, '4.1.1.0.7');
  });
  after(async () => {
    await s.stop();
  });

  it('is counted on target, not behind', async () => {
    assert.equal(await fetchOwnFile(s.http, PHONE, 'AVAYA/J100-4.1.1.0.7 J179'), 200);
    const fleet = await until(
      'the phone reported',
      () => api<FleetView>(s, 'GET', '/fleet'),
      (f) => f.devices.some((d) => d.id === PHONE.id && d.version !== null),
    );
    const d = fleet.devices.find((x) => x.id === PHONE.id)!;
    assert.equal(
      d.behind,
      false,
      `the phone runs its target 4.1.1.0.7 (its User-Agent says so) yet the fleet view shows it behind: version ${d.version}, target ${d.target}`,
    );
  });
});

describe('a download that starts in the window and is requested just after it closes', () => {
  const clock = new TestClock();
  const PHONE = { id: 'desk-race', mac: '00e0bb00fc01', password: 'pw-r' };
  let s: TestServer;
  let newId = 0;

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer({ profilesDir: profilesWith({}) }, undefined, undefined, { clock });
    await phoneOnOld96(s, NIGHTLY, PHONE);
  });
  after(async () => {
    await s.stop();
  });

  it('is credited to the phone, so outside the window it is not sent back to the old image', async () => {
    // Set-up: the phone is known at its address, then boots and takes OLD96 (credited: held OLD96).
    assert.equal(await fetchOwnFile(s.http, PHONE, `AVAYA/96x1-R0_0_0 ${M96}`), 200);
    const stateDir = tempDir('aps-avaya-attr-race-');
    const first = await bootPhone({ server: s.http, model: M96, mac: PHONE.mac, stateDir, user: PHONE.id, password: PHONE.password });
    assert.ok(first.ok, first.error);
    assert.deepEqual(first.downloaded, [OLD96]);

    clock.set('2026-01-14T12:00:00Z'); // the window closed since: the phone holds OLD96
    newId = (await firmware(s, P96, M96, NEW96, 2)).id;

    // 02:59, inside the window: the phone reads the script, which names NEW96. The test clock runs on from the
    // instant set, and this first read after a new image took up to 0.6 s on a loaded machine: a minute's margin
    // before 03:00, not two seconds.
    clock.set('2026-01-15T02:59:00Z');
    const ua = `AVAYA/96x1-R7_1_2_0_14 ${M96}`;
    const script = await (await fetch(`${s.http}/avaya/96x1Supgrade.txt`, { headers: { 'User-Agent': ua } })).text();
    assert.match(script, /^SET APPNAME S96x1_SIP_R7_1_15_0_4\.tar$/m);
    // Its binary request arrives a few seconds later, after 03:00: the file is still served, and it takes it.
    clock.set('2026-01-15T03:00:05Z');
    const bin = await fetch(`${s.http}/avaya/${NEW96}`, { headers: { 'User-Agent': ua } });
    assert.equal(bin.status, 200);
    await bin.arrayBuffer();
    await until(
      'the download recorded',
      () => (s.core.events.flush(), s.core.store.state.events({ adapter: 'avaya', limit: 100 })),
      (ev) => ev.some((e) => e.artifactId === newId && e.status === 200),
    );

    // It reboots on NEW96 (outside the window now).
    clock.set('2026-01-15T03:05:00Z');
    const after = await bootPhone({
      server: s.http,
      model: M96,
      mac: PHONE.mac,
      stateDir: tempDir('aps-avaya-attr-race2-'),
      running: NEW96,
      user: PHONE.id,
      password: PHONE.password,
    });
    assert.ok(after.ok, after.error);
    assert.ok(
      fetchedArtifact(s, PHONE.id, newId),
      'the NEW96 download was credited to nobody (http.ts attribute: phoneBinaries() gives the held OLD96 after 03:00)',
    );
    assert.deepEqual(
      after.downloaded,
      [],
      `the phone runs ${NEW96}; outside its window it was sent back to ${after.downloaded.join(', ')}`,
    );
  });
});

describe('a phone with a MAC but no model downloads its model branch', () => {
  const PHONE = { id: 'desk-nomodel', mac: '00e0bb00fd01', password: 'pw-n' };
  let s: TestServer;
  let oldId = 0;

  before(async () => {
    s = await startTestServer({ profilesDir: profilesWith({}) });
    s.core.devices.upsert({ ...PHONE, profile: P96 });
    oldId = (await firmware(s, P96, M96, OLD96, 1)).id;
  });
  after(async () => {
    await s.stop();
  });

  it('and the download is credited to it (the one phone at its address, Avaya User-Agent, same release)', async () => {
    assert.equal(await fetchOwnFile(s.http, PHONE, `AVAYA/96x1-R0_0_0 ${M96}`), 200);
    const boot = await bootPhone({ server: s.http, model: M96, mac: PHONE.mac, user: PHONE.id, password: PHONE.password });
    assert.ok(boot.ok, boot.error);
    assert.deepEqual(boot.downloaded, [OLD96]);
    await until(
      'the download recorded',
      () => (s.core.events.flush(), s.core.store.state.events({ adapter: 'avaya', limit: 100 })),
      (ev) => ev.some((e) => e.artifactId === oldId && e.status === 200),
    );
    assert.ok(
      fetchedArtifact(s, PHONE.id, oldId),
      'credited to nobody: phoneBinaries() returns [] for a device with no model (files.ts), so attribute() rejects the only phone at the address',
    );
  });
});

describe('a firmware pin on a phone with a MAC but no model', () => {
  const PHONE = { id: 'desk-pin-nomodel', mac: '00e0bb00fe01' };
  const ANY = 'S96x1_SIP_R7_1_9_0_1.tar';
  let s: TestServer;
  let pinId = 0;

  before(async () => {
    s = await startTestServer({ profilesDir: profilesWith({}) });
    // An image for every model of the profile (no models listed: the pin fits a device without a model).
    pinId = (
      await s.core.catalog.addBuffer(Buffer.alloc(2000, 7), { kind: 'firmware', profile: P96, models: [], version: ANY, filename: ANY })
    ).id;
  });
  after(async () => {
    await s.stop();
  });

  it('is refused: no branch could carry it (index.ts validateDevice)', () => {
    assert.throws(
      () => s.core.devices.upsert({ ...PHONE, profile: P96, password: 'pw-p', pins: { firmware: pinId } }),
      (e: unknown) => isApsError(e) && e.code === 'bad_request' && /has no model/.test(e.message),
    );
    assert.equal(s.core.devices.get(PHONE.id), undefined);
  });
});

/** One GET from a given loopback source address (a phone whose address APS has not seen, or forgot after 24 h). */
function getFrom(url: string, ua: string, localAddress: string, auth?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress, headers: { 'User-Agent': ua, ...(auth ? { Authorization: auth } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('an upgrade inside the window from an address APS does not remember for the phone', () => {
  const clock = new TestClock();
  const PHONE = { id: 'desk-addr', mac: '00e0bb00fb01', password: 'pw-a' };
  let s: TestServer;

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer({ profilesDir: profilesWith({}) }, undefined, undefined, { clock });
    await phoneOnOld96(s, NIGHTLY, PHONE);
  });
  after(async () => {
    await s.stop();
  });

  it('does not make the phone flip back to the old image outside the window', async () => {
    // Set-up as above: known at 127.0.0.1, takes OLD96 (credited: held OLD96).
    assert.equal(await fetchOwnFile(s.http, PHONE, `AVAYA/96x1-R0_0_0 ${M96}`), 200);
    const first = await bootPhone({ server: s.http, model: M96, mac: PHONE.mac, user: PHONE.id, password: PHONE.password });
    assert.deepEqual(first.downloaded, [OLD96]);
    clock.set('2026-01-14T12:00:00Z');
    await firmware(s, P96, M96, NEW96, 2);

    // In its window, days later: the address memory lasts 24 h after the phone was last seen there (identify.ts
    // BY_IP_TTL_MS) or the lease changed; here the phone comes from 127.0.0.2.
    clock.set('2026-01-15T02:10:00Z');
    const base = s.http;
    const script = await getFrom(`${base}/avaya/96x1Supgrade.txt`, `AVAYA/96x1-R7_1_2_0_14 ${M96}`, '127.0.0.2');
    assert.match(script.body.toString('utf8'), /^SET APPNAME S96x1_SIP_R7_1_15_0_4\.tar$/m);
    const bin = await getFrom(`${base}/avaya/${NEW96}`, `AVAYA/96x1-R7_1_2_0_14 ${M96}`, '127.0.0.2');
    assert.equal(bin.status, 200);
    // Rebooted on NEW96: its own file says so (and APS now remembers the address).
    const back = await getFrom(
      `${base}/avaya/${PHONE.mac}.txt`,
      `AVAYA/96x1-R7_1_15_0_4 ${M96}`,
      '127.0.0.2',
      basic(PHONE.id, PHONE.password),
    );
    assert.equal(back.status, 200);

    clock.set('2026-01-16T12:00:00Z'); // outside the window
    const later = await bootPhone({ server: s.http, model: M96, mac: PHONE.mac, user: PHONE.id, password: PHONE.password, running: NEW96 });
    assert.ok(later.ok, later.error);
    assert.deepEqual(
      later.downloaded,
      [],
      `the phone reports ${NEW96}'s release, yet outside its window its IF $MACADDR line sends it back to ${later.downloaded.join(', ')}`,
    );
  });
});
