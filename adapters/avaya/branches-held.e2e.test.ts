// The per-phone IF $MACADDR branches hold what they should (found by review 17; real server, the Avaya
// simulator, real SQLite): a window or `newDevices: wait` holds a phone the model branch would move, phones
// behind one address are each credited only their own download, a release with dots is the same release.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, manualProfiles, rolloutOf, type Rollout } from '../../test/helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { until } from '../../test/helpers/until.ts';
import { NIGHTLY, TestClock, profilesWith } from '../../test/helpers/windows.ts';
import { bootPhone, type BootResult } from './simulator.ts';
import { EVERY_DAY, M96, NEW96, OLD96, P96, fetchOwnFile, firmware, jem24, phoneOnOld96 } from './test-phones.ts';

const J100 = 'avaya-j100';
const J179 = 'J179';
const J179_FW = 'FW_S_J179_R4_0_1_0_2.bin';
const JEM_OLD = 'FW_JEM24_R1_0_1_0_23.bin';
const JEM_NEW = 'FW_JEM24_R1_0_2_0_5.bin';
/**
 * The rollouts' timeout: a phone not credited by then is judged failed with its reason, which the assertions
 * print (the waits below outlast it). It counts from the rollout's start; 3 s was too short on a loaded
 * machine, where booting the staged phone and judging it took up to 2.05 s.
 */
const TIMEOUT_S = 30;

/** J179_FW and JEM_OLD released (the phones run them), JEM_NEW in the catalog only: its id. */
async function j179WithModules(s: TestServer): Promise<number> {
  const at = new Date().toISOString();
  s.core.store.rollouts.release((await firmware(s, J100, J179, J179_FW, 1)).id, 'test set-up', at);
  s.core.store.rollouts.release((await jem24(s, J100, J179, JEM_OLD, 3)).id, 'test set-up', at);
  return (await jem24(s, J100, J179, JEM_NEW, 4)).id;
}

describe("a group's window holds a phone whose first download APS could not attribute", () => {
  const clock = new TestClock();
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-held-win-');
  const PHONE = { id: 'desk-first', mac: '00e0bb00f001', password: 'pw-f' };
  const boot = (): Promise<BootResult> =>
    bootPhone({ server: s.http, model: M96, mac: PHONE.mac, stateDir, user: PHONE.id, password: PHONE.password });

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer({ profilesDir: profilesWith({}) }, undefined, undefined, { clock });
    await phoneOnOld96(s, NIGHTLY, PHONE);
  });
  after(async () => {
    await s.stop();
  });

  it('outside the window the phone is not sent the model branch’s new image', async () => {
    // The phone's very first boot: the script and binary come before its own file, so its address is not yet
    // known and the download is attributed to nobody (the window gate never records what it holds).
    const first = await boot();
    assert.ok(first.ok, first.error);
    assert.deepEqual(first.downloaded, [OLD96], 'a new phone gets its image at once');

    clock.set('2026-01-14T12:00:00Z'); // the window closed at 03:00 since: the phone holds what it has
    await firmware(s, P96, M96, NEW96, 2);
    const held = await boot();
    assert.ok(held.ok, held.error);
    assert.deepEqual(
      held.downloaded,
      [],
      `outside its group's window the phone must keep ${OLD96}, yet it downloaded ${held.downloaded.join(', ')}`,
    );
    assert.equal(held.running, OLD96);
  });
});

describe("a group window's `newDevices: wait` holds a new phone's firmware", () => {
  const clock = new TestClock();
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-held-wait-');
  const PHONE = { id: 'desk-wait', mac: '00e0bb00f002', password: 'pw-w' };

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer({ profilesDir: profilesWith({}) }, undefined, undefined, { clock });
    await phoneOnOld96(s, NIGHTLY, PHONE, { group: 'waiting', newDevices: 'wait' });
  });
  after(async () => {
    await s.stop();
  });

  it('outside the window a new phone is given no artifact (README: "given no artifact until its window opens")', async () => {
    assert.equal(
      s.core.servicesFor('avaya').catalog.target(s.core.devices.get(PHONE.id)!, 'firmware'),
      undefined,
      'the gate offers nothing',
    );
    const r = await bootPhone({ server: s.http, model: M96, mac: PHONE.mac, stateDir, user: PHONE.id, password: PHONE.password });
    assert.ok(r.ok, r.error);
    assert.deepEqual(
      r.downloaded,
      [],
      `the gate offers the phone nothing, yet it downloaded ${r.downloaded.join(', ')} through its model branch`,
    );
  });
});

describe('a J100 phone whose User-Agent gives its release with dots', () => {
  const NEW = 'FW_S_J179_R4_1_1_0_7.bin';
  const PHONE = { id: 'desk-j', mac: 'c81fea9b650d', password: 'pw-j' };
  let s: TestServer;
  let newId = 0;

  before(async () => {
    s = await startTestServer({ profilesDir: manualProfiles([J100]), rollouts: { tickSeconds: 0.1 } });
    s.core.devices.upsert({ ...PHONE, profile: J100, model: J179 });
    s.core.store.rollouts.release((await firmware(s, J100, J179, J179_FW, 1)).id, 'test set-up', new Date().toISOString());
    newId = (await firmware(s, J100, J179, NEW, 2)).id;
  });
  after(async () => {
    await s.stop();
  });

  it('succeeds once the phone reports 4.1.1.0.7, the release the adapter parses from its User-Agent', async () => {
    // parseAvayaUserAgent reads "4.1.1.0.7" as the release (identify.ts: `"R7_1_15_0_4", "4.1.1.0.7"`).
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: newId, stages: '100', timeout: TIMEOUT_S });
    assert.equal(r.counts.devices, 1);
    const script = await (
      await fetch(`${s.http}/avaya/J100Supgrade.txt`, { headers: { 'User-Agent': 'AVAYA/J100-4.0.1.0.2 J179' } })
    ).text();
    assert.match(script, new RegExp(`^SET APPNAME ${NEW.replace(/\./g, '\\.')}$`, 'm'));
    const bin = await fetch(`${s.http}/avaya/${NEW}`, { headers: { 'User-Agent': 'AVAYA/J100-4.0.1.0.2 J179' } });
    assert.equal(bin.status, 200);
    await bin.arrayBuffer();
    // Booted on the new image: its own file, with its credentials, names the release it now runs.
    assert.equal(await fetchOwnFile(s.http, PHONE, 'AVAYA/J100-4.1.1.0.7 J179'), 200);
    const judged = await until(
      'the phone judged',
      () => rolloutOf(s, r.id),
      (x) => x.counts.pending === 0,
      2 * TIMEOUT_S * 1000,
    );
    const d = judged.devices.find((x) => x.deviceId === PHONE.id)!;
    assert.equal(d.status, 'succeeded', `the phone runs the new release yet: ${d.detail}`);
  });
});

describe('behind one address, a binary another phone downloads is not what this phone holds', () => {
  const clock = new TestClock();
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-held-nat-');
  // Both phones run the old image already (installed before APS), so their User-Agents name the same release.
  const PINNED = { id: 'desk-a', mac: '00e0bb00fa01' };
  const OTHER = { id: 'desk-b', mac: '00e0bb00fa02' };
  const boot = (p: { id: string; mac: string }): Promise<BootResult> =>
    bootPhone({ server: s.http, model: M96, mac: p.mac, stateDir, user: p.id, password: `${p.id}-pw`, running: OLD96 });

  before(async () => {
    clock.set('2026-01-13T02:10:00Z'); // inside the group's window
    s = await startTestServer({ profilesDir: manualProfiles([P96]) }, undefined, undefined, { clock });
    s.core.devices.upsertGroup({ name: 'night', vars: {}, pins: {} });
    s.core.windows.setGroupWindow('night', { ...NIGHTLY, days: EVERY_DAY, newDevices: 'serve', push: false });
    s.core.store.rollouts.release((await firmware(s, P96, M96, OLD96, 1)).id, 'test set-up', new Date().toISOString());
    const fresh = await firmware(s, P96, M96, NEW96, 2);
    s.core.devices.upsert({
      ...PINNED,
      profile: P96,
      model: M96,
      group: 'night',
      password: `${PINNED.id}-pw`,
      pins: { firmware: fresh.id },
    });
    s.core.devices.upsert({ ...OTHER, profile: P96, model: M96, group: 'night', password: `${OTHER.id}-pw` });
  });
  after(async () => {
    await s.stop();
  });

  it('the unpinned phone is never sent the pinned phone’s image', async () => {
    // Inside the window: B boots first (its address is now B's), then A takes its pinned image. Both send
    // the same model and release, so A's download passes http.ts attribute() as B's.
    assert.deepEqual((await boot(OTHER)).downloaded, [], 'B runs its target already');
    assert.deepEqual((await boot(PINNED)).downloaded, [NEW96], 'A takes its pin');

    clock.set('2026-01-14T12:00:00Z'); // the window closed since: each phone is held on what it holds
    const b = await boot(OTHER);
    assert.ok(b.ok, b.error);
    assert.deepEqual(b.downloaded, [], `B was never targeted at ${NEW96} (no pin, no rollout), yet downloaded ${b.downloaded.join(', ')}`);
    assert.equal(b.running, OLD96);
  });
});

describe('a companion rollout behind one address judges each phone by its own download', () => {
  const STAGED = { id: 'desk-s', mac: 'c81fea9b6601' };
  const NEIGHBOUR = { id: 'desk-n', mac: 'c81fea9b6602' };
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-held-aux-');
  let jemNew = 0;
  const boot = (p: { id: string; mac: string }): Promise<BootResult> =>
    bootPhone({ server: s.http, model: J179, mac: p.mac, stateDir, user: p.id, password: `${p.id}-pw`, running: J179_FW });

  before(async () => {
    s = await startTestServer({ profilesDir: manualProfiles([J100]), rollouts: { tickSeconds: 0.1 } });
    s.core.devices.upsertGroup({ name: 'g1', vars: {}, pins: {} });
    s.core.devices.upsert({ ...STAGED, profile: J100, model: J179, group: 'g1', password: `${STAGED.id}-pw` });
    s.core.devices.upsert({ ...NEIGHBOUR, profile: J100, model: J179, password: `${NEIGHBOUR.id}-pw` });
    jemNew = await j179WithModules(s);
  });
  after(async () => {
    await s.stop();
  });

  it('the staged phone that downloaded the new module image completely succeeds', async () => {
    assert.deepEqual((await boot(STAGED)).downloaded, [JEM_OLD]);
    assert.deepEqual((await boot(NEIGHBOUR)).downloaded, [JEM_OLD]); // the address is now the neighbour's
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: jemNew, stages: '100', groups: ['g1'], timeout: TIMEOUT_S });
    assert.equal(r.counts.devices, 1);
    assert.deepEqual((await boot(STAGED)).downloaded, [JEM_NEW], 'the staged phone downloads the new module image');
    const judged = await until(
      'the staged phone judged',
      () => rolloutOf(s, r.id),
      (x) => x.counts.pending === 0,
      2 * TIMEOUT_S * 1000,
    );
    const d = judged.devices.find((x) => x.deviceId === STAGED.id)!;
    assert.equal(d.status, 'succeeded', `it downloaded ${JEM_NEW} completely, yet: ${d.detail}`);
  });
});

describe('a phone of the second profile naming a model gets no binary of the first', () => {
  const FIRST = 'FW_S_J179_R4_1_1_0_7.bin';
  const PHONE = { id: 'desk-zz', mac: 'c81fea9b6701' };
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-held-two-');

  before(async () => {
    const dir = profilesWith({});
    // A second J100 profile (after avaya-j100 by name) listing J179 too, with no firmware of its own.
    writeFileSync(
      join(dir, 'avaya-zz.yaml'),
      readFileSync(join(dir, 'avaya-j100.yaml'), 'utf8').replace(/^models: .*$/m, `models: [${J179}]`),
    );
    s = await startTestServer({ profilesDir: dir });
    s.core.devices.upsert({ ...PHONE, profile: 'avaya-zz', model: J179, password: 'pw-zz' });
    await firmware(s, J100, J179, FIRST, 1);
  });
  after(async () => {
    await s.stop();
  });

  it("the phone's own profile names no firmware: it downloads none (not avaya-j100's)", async () => {
    assert.equal(s.core.servicesFor('avaya').catalog.target(s.core.devices.get(PHONE.id)!, 'firmware'), undefined, 'its target is none');
    const r = await bootPhone({ server: s.http, model: J179, mac: PHONE.mac, stateDir, user: PHONE.id, password: 'pw-zz' });
    assert.ok(r.ok, r.error);
    assert.deepEqual(r.downloaded, [], `a phone of avaya-zz downloaded ${r.downloaded.join(', ')}, avaya-j100's firmware`);
  });
});

describe('a download by something that is no phone is credited to no phone', () => {
  const PHONE = { id: 'desk-c', mac: 'c81fea9b6801' };
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-held-curl-');
  let jemNew = 0;

  before(async () => {
    s = await startTestServer({ profilesDir: manualProfiles([J100]), rollouts: { tickSeconds: 0.1 } });
    s.core.devices.upsert({ ...PHONE, profile: J100, model: J179, password: 'pw-c' });
    jemNew = await j179WithModules(s);
  });
  after(async () => {
    await s.stop();
  });

  it('an admin fetching the new module image from the phone’s address does not make the phone succeed', async () => {
    const first = await bootPhone({
      server: s.http,
      model: J179,
      mac: PHONE.mac,
      stateDir,
      user: PHONE.id,
      password: 'pw-c',
      running: J179_FW,
    });
    assert.deepEqual(first.downloaded, [JEM_OLD]);
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: jemNew, stages: '100', timeout: 60 });
    assert.equal(r.counts.devices, 1);
    // Not a phone: no AVAYA User-Agent (a browser or curl on the same LAN or NAT address).
    const got = await fetch(`${s.http}/avaya/${JEM_NEW}`, { headers: { 'User-Agent': 'curl/8.5.0' } });
    assert.equal(got.status, 200);
    await got.arrayBuffer();
    // The download as recorded (the event sink writes in batches): whose it is decides rollout health and window holds.
    const e = await until('the download recorded', () =>
      s.core.store.state.events({ adapter: 'avaya', limit: 50 }).find((x) => x.ua === 'curl/8.5.0' && x.artifactId === jemNew),
    );
    assert.ok(e);
    assert.equal(
      e.deviceId,
      null,
      `a curl download was credited to ${e.deviceId} (its rollout then judges it succeeded: it never asked for ${JEM_NEW})`,
    );
  });
});
