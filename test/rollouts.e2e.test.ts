import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { initialState, runCpeSession, type CpeOptions, type SessionResult } from '../adapters/tr069/simulator.ts';
import type { Rollout } from '../src/rollouts/rollouts.ts';
import { apsCli } from './helpers/cli.ts';
import { api, artifactStatus, hashSelected, manualProfiles, rolloutOf } from './helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

// Issue 12 "Done when", with 40 simulated TR-069 CPEs under `release: manual`: a new firmware is a
// candidate nobody gets; a 10 % stage reaches exactly the CPEs the hash selects; a TransferComplete fault
// halts the rollout at the threshold, saying why; a restart loses nothing; promotion to 100 % releases it;
// an abort sends the rollout's CPEs back to the old firmware; a CPE that never comes back within a short
// timeout, and one that boots another version than it was sent, halt another rollout.
const PROFILE = 'thomson-tr069';
const IDS = Array.from({ length: 40 }, (_, i) => `cpe-${String(i).padStart(2, '0')}`);

function image(version: string): Buffer {
  const payload = Buffer.alloc(300, version.charCodeAt(0));
  return Buffer.concat([Buffer.from(`APSFW ${version} ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
}

const firmwareDownloads = (r: SessionResult): number => r.downloads.filter((d) => d.fileType.startsWith('1 ')).length;

describe('staged rollouts end to end (TR-069 simulators)', () => {
  const dataDir = tempDir('aps-rollouts-');
  const profilesDir = manualProfiles([PROFILE]);
  const cpes = new Map<string, CpeOptions>();
  let s: TestServer;
  const start = (): Promise<TestServer> =>
    startTestServer(
      { profilesDir, rollouts: { tickSeconds: 0.1 }, adapters: { tr069: { retryBaseSeconds: 0, sweepIntervalSeconds: 0.2 } } },
      dataDir,
    );
  const session = async (id: string): Promise<SessionResult> => {
    const o = cpes.get(id)!;
    const r = await runCpeSession({ ...o, acs: `${s.http}/tr069` });
    assert.equal(r.error, undefined, `${id}: ${r.error}`);
    return r;
  };
  /** A session per CPE (the skipped ones stay away); returns the firmware Downloads each got. */
  const round = async (skip: readonly string[] = []): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const id of IDS) if (!skip.includes(id)) out.set(id, firmwareDownloads(await session(id)));
    return out;
  };
  const addFirmware = async (version: string): Promise<number> =>
    (await s.core.catalog.addBuffer(image(version), { kind: 'firmware', profile: PROFILE, version, filename: `fw-${version}.bin` })).id;
  const running = (id: string): string => cpes.get(id)!.state!.softwareVersion;

  let v1 = 0;
  let v2 = 0;
  let rollout = 0;
  let selected: string[] = [];
  let faulty = '';

  before(async () => {
    s = await start();
    for (const id of IDS) {
      s.core.devices.upsert({ id, profile: PROFILE, password: `${id}-pw` });
      cpes.set(id, { acs: '', serial: id, password: `${id}-pw`, state: initialState('1.0') });
    }
  });
  after(async () => {
    await s.stop();
  });

  it('under release: manual a new firmware is a candidate and no CPE gets it', async () => {
    v1 = await addFirmware('1.0');
    assert.equal(await artifactStatus(s, v1), 'candidate');
    for (const [id, n] of await round()) assert.equal(n, 0, `${id} got no Download`);
    // The first firmware is released by a one-stage rollout: every CPE already runs 1.0, so all succeed.
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: v1, stages: '100', timeout: 60 });
    await round();
    const done = await until(
      'first rollout completes',
      () => rolloutOf(s, r.id),
      (x) => x.state === 'completed',
    );
    assert.equal(done.counts.succeeded, IDS.length);
    assert.equal(await artifactStatus(s, v1), 'target');

    v2 = await addFirmware('2.0');
    assert.equal(await artifactStatus(s, v2), 'candidate');
    for (const [id, n] of await round()) assert.equal(n, 0, `${id} got no Download of the candidate`);
  });

  it('a 10 % stage reaches exactly the CPEs the hash selects, and no other', async () => {
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: v2, stages: '10,50,100', maxFailures: 0, timeout: 60 });
    rollout = r.id;
    selected = hashSelected(rollout, IDS, 10);
    assert.ok(selected.length >= 2, `the test needs 2 selected CPEs, the hash gives ${selected.join(',')}`);
    assert.deepEqual(
      (await rolloutOf(s, rollout)).devices.map((d) => d.deviceId),
      selected,
    );
    faulty = selected[0]!;
    cpes.get(faulty)!.transferFault = { faultCode: 9010, faultString: 'Download failure: image rejected' };
    const first = await round();
    for (const [id, n] of first) assert.equal(n, selected.includes(id) ? 1 : 0, `${id}: firmware Downloads`);
    for (const id of selected) await session(id);
    for (const id of selected.slice(1)) assert.equal(running(id), '2.0', `${id} runs 2.0`);
    for (const id of IDS.filter((x) => !selected.includes(x))) assert.equal(running(id), '1.0', `${id} still runs 1.0`);
    assert.equal(running(faulty), '1.0');
  });

  it('a TransferComplete fault halts the rollout at the threshold, with the reason', async () => {
    const halted = await until(
      'halt',
      () => rolloutOf(s, rollout),
      (r) => r.state === 'halted' && r.counts.pending === 0,
    );
    const byId = new Map(halted.devices.map((d) => [d.deviceId, d]));
    assert.equal(byId.get(faulty)!.status, 'failed');
    assert.match(byId.get(faulty)!.detail!, /fault 9010: Download failure: image rejected/);
    for (const id of selected.slice(1)) assert.equal(byId.get(id)!.status, 'succeeded', id);
    assert.match(halted.reason!, new RegExp(`halted: 1 of ${selected.length} devices failed, more than max 0: ${faulty} \\(fault 9010`));
    // The failed CPE's target is 1.0 again: it is not sent the same Download at every session (the adapter
    // itself retries a failed Download at once here: retryBaseSeconds 0).
    for (let i = 0; i < 2; i++) assert.equal(firmwareDownloads(await session(faulty)), 0);
    assert.equal(s.core.catalog.target(s.core.devices.get(faulty)!, 'firmware')?.id, v1);
    // Each transition is an event.
    s.core.events.flush();
    const log = s.core.store.state.events({ adapter: 'rollout', limit: 1000 }).map((e) => e.detail ?? '');
    assert.ok(log.some((d) => /^started/.test(d)) && log.some((d) => /^halted/.test(d)));
  });

  it('a restart in the middle of the rollout loses nothing', async () => {
    const before = await rolloutOf(s, rollout);
    await s.close();
    s = await start();
    const afterRestart = await rolloutOf(s, rollout);
    assert.deepEqual({ ...afterRestart, updatedAt: '' }, { ...before, updatedAt: '' });
    assert.equal(afterRestart.state, 'halted');
    // The CLI reads the same state from the data folder.
    const { aps } = apsCli({ ...process.env, APS_DATA: dataDir, APS_PROFILES: profilesDir });
    const cli = JSON.parse((await aps('rollout', 'status', String(rollout), '--json')).stdout) as Rollout;
    assert.equal(cli.state, 'halted');
    assert.deepEqual(cli.counts, afterRestart.counts);
  });

  /** Two sessions for each CPE the rollout waits for (the Download, then the Inform after the reboot). */
  const settle = async (id: number): Promise<void> => {
    for (const d of (await rolloutOf(s, id)).devices) if (d.status === 'pending') for (let i = 0; i < 2; i++) await session(d.deviceId);
  };

  it('promotion past the halt, then to 100 %, releases the firmware to every CPE', async () => {
    await api(s, 'POST', `/rollouts/${rollout}/promote`);
    const half = hashSelected(rollout, IDS, 50);
    assert.deepEqual(
      (await rolloutOf(s, rollout)).devices.map((d) => d.deviceId),
      half,
    );
    await settle(rollout);
    const stage2 = await until(
      'stage 2 done',
      () => rolloutOf(s, rollout),
      (r) => r.counts.pending === 0,
    );
    assert.equal(stage2.state, 'running', 'the accepted failure no longer counts');
    await api(s, 'POST', `/rollouts/${rollout}/promote`);
    await settle(rollout);
    const done = await until(
      'completed',
      () => rolloutOf(s, rollout),
      (r) => r.state === 'completed',
    );
    assert.equal(done.counts.devices, IDS.length);
    assert.equal(done.counts.failed, 1);
    for (const id of IDS.filter((x) => x !== faulty)) assert.equal(running(id), '2.0', id);
    assert.equal(await artifactStatus(s, v2), 'target');
  });

  it('abort returns the CPEs to the old firmware, and they fetch it', async () => {
    const v3 = await addFirmware('3.0');
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: v3, stages: '10,100', timeout: 60 });
    const chosen = hashSelected(r.id, IDS, 10).filter((x) => x !== faulty);
    assert.ok(chosen.length > 0);
    for (const id of IDS) assert.equal(firmwareDownloads(await session(id)), chosen.includes(id) ? 1 : 0, id);
    for (const id of chosen) await session(id);
    for (const id of chosen) assert.equal(running(id), '3.0', id);
    const aborted = await api<Rollout>(s, 'POST', `/rollouts/${r.id}/abort`);
    assert.equal(aborted.state, 'aborted');
    for (const id of chosen) assert.equal(firmwareDownloads(await session(id)), 1, `${id} is sent the old firmware`);
    for (const id of chosen) await session(id);
    for (const id of chosen) assert.equal(running(id), '2.0', `${id} runs 2.0 again`);
    assert.equal(await artifactStatus(s, v3), 'candidate');
    await api(s, 'POST', `/rollouts/${r.id}/resume`, undefined, 409);
    // The admin's commands are in the audit log, under the token's name.
    const audited = s.core.audit.list({ target: String(r.id) }).map((e) => e.action);
    assert.deepEqual(audited.sort(), ['rollout.abort', 'rollout.start']);
  });

  it('a CPE that never comes back within a short timeout, and one that boots another version, halt the rollout', async () => {
    // The image boots as 3.9 while the artifact says 4.0: the adapter records fault 9010 at the Inform.
    const payload = Buffer.alloc(300, 52);
    const bytes = Buffer.concat([Buffer.from(`APSFW 3.9 ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
    const v4 = (await s.core.catalog.addBuffer(bytes, { kind: 'firmware', profile: PROFILE, version: '4.0', filename: 'fw-4.0.bin' })).id;
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: v4, stages: '10,100', maxFailures: 1, timeout: 4 });
    const chosen = hashSelected(r.id, IDS, 10);
    assert.ok(chosen.length >= 2 && !chosen.includes(faulty), `the test needs 2 selected CPEs, the hash gives ${chosen.join(',')}`);
    const [away, ...rest] = chosen as [string, ...string[]];
    // `away` takes the Download and the image, and never comes back; the others come back as 3.9.
    for (const id of chosen) assert.equal(firmwareDownloads(await session(id)), 1, `${id} is sent 4.0`);
    for (const id of rest) await session(id);
    const halted = await until(
      'halt',
      () => rolloutOf(s, r.id),
      (x) => x.state === 'halted',
    );
    const byId = new Map(halted.devices.map((d) => [d.deviceId, d]));
    assert.match(byId.get(away)!.detail!, /not back within 4s/);
    for (const id of rest) {
      assert.equal(byId.get(id)!.status, 'failed');
      assert.match(byId.get(id)!.detail!, /fault 9010: APS: transfer reported complete, but the CPE runs 3\.9, not 4\.0/);
    }
    assert.match(halted.reason!, new RegExp(`${chosen.length} of ${chosen.length} devices failed, more than max 1`));
    assert.ok(halted.reason!.includes(away) && rest.every((id) => halted.reason!.includes(id)), halted.reason!);
    // The session that reported the fault sent its next Download before or after the verdict: events reach the
    // store from a timer (50 ms) and the ticker judges 100 ms later, while that session's empty POST follows its
    // TransferComplete at once, or (under load) later. Before the verdict it is sent 4.0 once more (its target
    // still) and its next session gets 2.0; after it, that session already got 2.0. Either way, from the halt on
    // it is sent 2.0 and nothing else, and runs it.
    for (const id of rest) {
      if (running(id) !== '2.0')
        assert.equal(firmwareDownloads(await session(id)), 1, `${id} is sent its previous firmware (2.0), not 4.0 again`);
      assert.equal(running(id), '2.0', `${id} runs its previous firmware again`);
      assert.equal(firmwareDownloads(await session(id)), 0, `${id} stays on 2.0: not sent 4.0 again`);
    }
    for (const id of rest) assert.equal(s.core.catalog.target(s.core.devices.get(id)!, 'firmware')?.id, v2);
    const all = await api<Rollout[]>(s, 'GET', '/rollouts');
    assert.deepEqual(
      all.map((x) => x.state),
      ['completed', 'completed', 'aborted', 'halted'],
    );
    await api(s, 'GET', '/rollouts/999', undefined, 404);
  });
});
