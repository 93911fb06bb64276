// Staged rollouts of Avaya firmware, end to end through the simulator's script interpreter: the upgrade
// script names each phone whose own target differs from its model's in an IF $MACADDR line, so a rollout
// stage, a per-phone pin or a group's release policy reaches exactly those phones. A phone reports its
// release in its User-Agent, which is how the rollout judges it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apsCli } from '../../test/helpers/cli.ts';
import { api, hashSelected, manualProfiles, rolloutOf, type Rollout } from '../../test/helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { until } from '../../test/helpers/until.ts';
import { bootPhone, type BootResult } from './simulator.ts';
import { M96 as MODEL, NEW96 as NEW, OLD96 as OLD, P96 as PROFILE, firmware } from './test-phones.ts';

const FLOOR = Array.from({ length: 10 }, (_, i) => ({ id: `desk-${i}`, mac: `00e0bb0096a${i}` }));
const PINNED = { id: 'desk-pin', mac: '00e0bb0096b0' };
const LAB = { id: 'desk-lab', mac: '00e0bb0096b1' };
/** Registered without a MAC; the phone itself has one, which the script cannot know is this device's. */
const NO_MAC = { id: 'desk-nomac', mac: '00e0bb0096c0' };
const PHONES = [...FLOOR, PINNED, LAB, NO_MAC];

describe('Avaya staged rollout: IF $MACADDR branches per phone', () => {
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-rollout-');
  let newId = 0;
  let rollout = 0;

  const boot = async (p: { id: string; mac: string }): Promise<BootResult> => {
    const credentials = p === NO_MAC ? {} : { user: p.id, password: `${p.id}-pw` };
    const r = await bootPhone({ server: s.http, model: MODEL, mac: p.mac, stateDir, ...credentials });
    assert.equal(r.ok, true, `${p.id}: ${r.error}`);
    return r;
  };
  /** Boots every phone once; returns what each downloaded. */
  const bootAll = async (): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>();
    for (const p of PHONES) out.set(p.id, (await boot(p)).downloaded);
    return out;
  };
  const expectDownloads = (got: Map<string, string[]>, want: Record<string, string>): void => {
    for (const p of PHONES) assert.deepEqual(got.get(p.id), want[p.id] ? [want[p.id]] : [], `${p.id} downloads`);
  };
  const script = async (): Promise<string> => (await fetch(`${s.http}/avaya/96x1Supgrade.txt`)).text();
  const macLines = async (): Promise<string[]> => (await script()).split('\n').filter((l) => l.startsWith('IF $MACADDR'));
  const macsOf = (ids: readonly string[]): string[] => FLOOR.filter((p) => ids.includes(p.id)).map((p) => p.mac);
  const stageDone = (n: number): Promise<unknown> =>
    until(
      `stage ${n} judged`,
      () => rolloutOf(s, rollout),
      (r) => r.counts.pending === 0,
    );

  // The preview names the binary each phone is sent to: its own branch's, or its model's.
  const binaries = async (id: string): Promise<string[]> =>
    (await api<Array<{ name: string; artifactId?: number }>>(s, 'GET', `/devices/${id}/preview`))
      .filter((f) => f.artifactId)
      .map((f) => f.name);

  before(async () => {
    s = await startTestServer({
      profilesDir: manualProfiles([PROFILE]),
      rollouts: { tickSeconds: 0.1 },
      adapters: { avaya: { unknownPhones: 'refuse' } },
    });
    s.core.devices.upsertGroup({ name: 'floor', vars: {}, pins: {} });
    s.core.devices.upsertGroup({ name: 'lab', vars: {}, pins: {} });
    for (const p of FLOOR) s.core.devices.upsert({ ...p, profile: PROFILE, model: MODEL, group: 'floor', password: `${p.id}-pw` });
    s.core.devices.upsert({ ...PINNED, profile: PROFILE, model: MODEL, password: `${PINNED.id}-pw` });
    s.core.devices.upsert({ ...LAB, profile: PROFILE, model: MODEL, group: 'lab', password: `${LAB.id}-pw` });
    s.core.devices.upsert({ id: NO_MAC.id, profile: PROFILE, model: MODEL, group: 'lab', password: `${NO_MAC.id}-pw` });
    // The profile is `release: manual`: the old image is released, as a finished rollout would have left it.
    s.core.store.rollouts.release((await firmware(s, PROFILE, MODEL, OLD, 1)).id, 'test set-up', new Date().toISOString());
    newId = (await firmware(s, PROFILE, MODEL, NEW, 2)).id;
  });
  after(async () => {
    await s.stop();
  });

  it('every phone boots onto the released image; the script names no phone', async () => {
    expectDownloads(await bootAll(), Object.fromEntries(PHONES.map((p) => [p.id, OLD])));
    assert.deepEqual(await macLines(), []);
  });

  it('stage 1 of 3 (group floor): the selected phones get the new image, the others keep the old', async () => {
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: newId, stages: '20,50,100', groups: ['floor'], timeout: 60 });
    rollout = r.id;
    const first = hashSelected(
      r.id,
      FLOOR.map((p) => p.id),
      20,
    );
    assert.ok(first.length > 0, 'stage 1 selects someone');
    assert.deepEqual(
      (await rolloutOf(s, r.id)).devices.map((d) => d.deviceId),
      first,
    );
    assert.deepEqual(
      await macLines(),
      macsOf(first).map((m) => `IF $MACADDR SEQ ${m} GOTO PHONES_1`),
    );
    expectDownloads(await bootAll(), Object.fromEntries(first.map((id) => [id, NEW])));
    await stageDone(1);
    for (const d of (await rolloutOf(s, r.id)).devices) assert.equal(d.status, 'succeeded', `${d.deviceId}: ${d.detail}`);
  });

  it('promotion moves the next phones; the first ones download nothing again', async () => {
    const before = hashSelected(
      rollout,
      FLOOR.map((p) => p.id),
      20,
    );
    await api(s, 'POST', `/rollouts/${rollout}/promote`);
    const second = hashSelected(
      rollout,
      FLOOR.map((p) => p.id),
      50,
    ).filter((id) => !before.includes(id));
    assert.ok(second.length > 0, 'stage 2 selects more phones');
    assert.equal((await macLines()).length, before.length + second.length);
    expectDownloads(await bootAll(), Object.fromEntries(second.map((id) => [id, NEW])));
    await stageDone(2);
    const r = await rolloutOf(s, rollout);
    assert.equal(r.state, 'running');
    for (const d of r.devices) assert.equal(d.status, 'succeeded', `${d.deviceId}: ${d.detail}`);
  });

  it('abort sends the staged phones back to the old image; the script names no phone again', async () => {
    const staged = (await rolloutOf(s, rollout)).devices.map((d) => d.deviceId);
    await api(s, 'POST', `/rollouts/${rollout}/abort`);
    assert.deepEqual(await macLines(), []);
    expectDownloads(await bootAll(), Object.fromEntries(staged.map((id) => [id, OLD])));
  });

  it('a per-phone pin (CLI) reaches that phone alone', async () => {
    const { aps } = apsCli({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' });
    await aps('device', 'set', PINNED.id, '--pin', `firmware=${newId}`);
    assert.deepEqual(await macLines(), [`IF $MACADDR SEQ ${PINNED.mac} GOTO PHONES_1`]);
    expectDownloads(await bootAll(), { [PINNED.id]: NEW });
    assert.deepEqual(await binaries(PINNED.id), [NEW]);
    assert.deepEqual(await binaries(FLOOR[0]!.id), [OLD]);
  });

  it("a group's release policy reaches its phone with a MAC; the one without a MAC follows its model", async () => {
    s.core.devices.upsertGroup({ name: 'lab', vars: {}, pins: {}, release: 'auto' });
    assert.equal(s.core.catalog.target(s.core.devices.get(NO_MAC.id)!, 'firmware')?.id, newId, 'its own target is the new image');
    assert.deepEqual(
      await macLines(),
      [PINNED.mac, LAB.mac].sort().map((m) => `IF $MACADDR SEQ ${m} GOTO PHONES_1`),
    );
    expectDownloads(await bootAll(), { [LAB.id]: NEW });
    assert.equal((await boot(NO_MAC)).running, OLD);
    assert.deepEqual(await binaries(NO_MAC.id), [OLD]);
    assert.deepEqual(await binaries(LAB.id), [NEW]);
  });

  it('a rollout leaves out a phone with no MAC: no branch could reach it, so it neither waits nor fails', async () => {
    s.core.devices.upsertGroup({ name: 'mixed', vars: {}, pins: {} });
    for (const id of [NO_MAC.id, FLOOR[0]!.id]) s.core.devices.upsert({ id, group: 'mixed' });
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: newId, stages: '100', groups: ['mixed'], timeout: 60 });
    assert.deepEqual(
      (await rolloutOf(s, r.id)).devices.map((d) => d.deviceId),
      [FLOOR[0]!.id],
    );
    await api(s, 'POST', `/rollouts/${r.id}/abort`);
  });

  it('a firmware pin on a device with no MAC is refused: no branch could carry it', async () => {
    const { fails } = apsCli({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' });
    await fails(['device', 'set', NO_MAC.id, '--pin', `firmware=${newId}`], /has no MAC \(--mac\)/);
    assert.deepEqual(s.core.devices.get(NO_MAC.id)?.pins, {}, 'nothing written');
  });
});
