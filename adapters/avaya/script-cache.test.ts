// The upgrade script with IF $MACADDR branches is rendered once per change, not per request: the device
// scan it needs runs when the store generation moves (device, group, artifact, rollout writes) or a
// window its phones follow opens or closes, and every other request is a cache hit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AdapterServices } from '../../src/adapter-api.ts';
import { api, manualProfiles, type Rollout } from '../../test/helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { NIGHTLY, TestClock, profilesWith } from '../../test/helpers/windows.ts';
import { upgradeScript } from './files.ts';
import { bootPhone } from './simulator.ts';
import { M96 as MODEL, NEW96, OLD96, P96 as PROFILE, firmware as addFirmware, windowedPhone } from './test-phones.ts';

const SCRIPT = '96x1Supgrade.txt';

const firmware = (s: TestServer, name: string, fill: number): Promise<{ id: number }> => addFirmware(s, PROFILE, MODEL, name, fill);

/** The adapter's services with a count of the device scans made through them. */
function counted(s: TestServer): { svc: AdapterServices; scans: () => number } {
  const svc = s.core.servicesFor('avaya');
  let n = 0;
  const list = svc.devices.list.bind(svc.devices);
  svc.devices.list = () => {
    n++;
    return list();
  };
  return { svc, scans: () => n };
}

describe('Avaya upgrade script: one device scan per change', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ profilesDir: manualProfiles([PROFILE]) });
    for (let i = 0; i < 20; i++)
      s.core.devices.upsert({ id: `desk-${i}`, profile: PROFILE, model: MODEL, mac: `00e0bb00c0${String(i).padStart(2, '0')}` });
    s.core.store.rollouts.release((await firmware(s, OLD96, 1)).id, 'test set-up', new Date().toISOString());
  });
  after(async () => {
    await s.stop();
  });

  it('requests without a change are cache hits; a rollout start and its abort re-render once each', async () => {
    const { svc, scans } = counted(s);
    upgradeScript(svc, SCRIPT);
    const warm = upgradeScript(svc, SCRIPT); // the first render leaves the window subjects its key reads
    const base = scans();
    for (let i = 0; i < 50; i++) assert.equal(upgradeScript(svc, SCRIPT), warm, 'the cached file itself');
    assert.equal(scans(), base, 'no device scan on a cache hit');
    assert.ok(!warm.bytes.toString('utf8').includes('$MACADDR'));

    const fw = await firmware(s, NEW96, 2);
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: fw.id, stages: '50,100' });
    const staged = upgradeScript(svc, SCRIPT);
    for (let i = 0; i < 50; i++) upgradeScript(svc, SCRIPT);
    assert.equal(scans(), base + 1, 'one scan for the rollout stage, none for the 50 requests after it');
    const lines = staged.bytes.toString('utf8').split('\n');
    assert.equal(lines.filter((l) => l.startsWith('IF $MACADDR')).length, r.counts.devices);

    await api(s, 'POST', `/rollouts/${r.id}/abort`);
    const back = upgradeScript(svc, SCRIPT);
    assert.equal(scans(), base + 2);
    assert.ok(back.bytes.equals(warm.bytes), 'after the abort the script is the one before the rollout, byte for byte');
  });
});

describe("Avaya upgrade script follows a group's maintenance window per phone", () => {
  const clock = new TestClock();
  let s: TestServer;
  const stateDir = tempDir('aps-avaya-gwin-');
  const PHONE = { id: 'desk-n', mac: '00e0bb00d001', password: 'pw-n' };
  const boot = (): ReturnType<typeof bootPhone> =>
    bootPhone({ server: s.http, model: MODEL, mac: PHONE.mac, stateDir, user: PHONE.id, password: PHONE.password });

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    // The profile has no window (release: auto): its model branch moves at once; the group's phone does not.
    s = await startTestServer({ profilesDir: profilesWith({}) }, undefined, undefined, { clock });
    windowedPhone(s, NIGHTLY, PHONE);
  });
  after(async () => {
    await s.stop();
  });

  it('outside the window the phone is held by its own line (no APPNAME: it keeps its image); inside it, it takes the new one', async () => {
    assert.equal((await boot()).ok, true, 'a first boot makes the address known (no firmware yet)');
    await firmware(s, OLD96, 1);
    assert.deepEqual((await boot()).downloaded, [OLD96], 'a new phone gets its image at once');

    clock.set('2026-01-14T12:00:00Z'); // the window closed at 03:00 since: the phone now holds what it has
    assert.ok(
      !(await (await fetch(`${s.http}/avaya/${SCRIPT}`)).text()).includes('$MACADDR'),
      'a held phone that runs its model branch needs no line of its own',
    );
    await firmware(s, NEW96, 2);
    const script = await (await fetch(`${s.http}/avaya/${SCRIPT}`)).text();
    // Held: its line sets no APPNAME, so it keeps what it runs.
    assert.match(script, new RegExp(`^IF \\$MACADDR SEQ ${PHONE.mac} GOTO GETSET$`, 'm'));
    assert.match(script, /^SET APPNAME S96x1_SIP_R7_1_15_0_4\.tar$/m, 'the model branch has the new image');
    const held = await boot();
    assert.deepEqual(held.downloaded, []);
    assert.equal(held.running, OLD96);

    clock.set('2026-01-15T02:10:00Z'); // no store write: only the window opened
    assert.ok(!(await (await fetch(`${s.http}/avaya/${SCRIPT}`)).text()).includes('$MACADDR'));
    assert.deepEqual((await boot()).downloaded, [NEW96]);
  });
});
