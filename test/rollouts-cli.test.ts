import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ADAPTERS } from '../adapters/index.ts';
import { loadConfig } from '../src/config.ts';
import { openCore, type Core } from '../src/core.ts';
import { createLogger } from '../src/log.ts';
import { abortRollout, evaluateRollouts, rolloutStatus, startRollout, type Rollout } from '../src/rollouts/rollouts.ts';
import type { ArtifactRecord } from '../src/store/index.ts';
import { apsCli } from './helpers/cli.ts';
import { hashSelected, manualProfiles, rolloutOf } from './helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

// The `aps rollout` verbs and `aps artifact list` statuses, run as an operator runs them (no server: the
// state is in the data folder). The group's `release: manual` comes from `aps apply`.
const IDS = ['op1', 'op2', 'op3', 'op4', 'op5', 'op6'];

describe('aps rollout (CLI)', () => {
  const data = tempDir('aps-rollout-cli-');
  const { aps, fails } = apsCli({ ...process.env, APS_DATA: data, APS_LOG_LEVEL: 'silent' });
  const json = async <T>(...args: string[]): Promise<T> => JSON.parse((await aps(...args, '--json')).stdout) as T;

  before(async () => {
    writeFileSync(join(data, 'fw.bin'), Buffer.alloc(2000, 4));
    const site = [
      'groups:',
      '  - name: floor1',
      '    release: manual',
      'devices:',
      ...IDS.map((id) => `  - { id: ${id}, profile: vop, group: floor1, password: ${id}-pw }`),
      'artifacts:',
      `  - { file: ${join(data, 'fw.bin')}, profile: vop, kind: firmware, version: '4.0', serial: 40 }`,
    ].join('\n');
    writeFileSync(join(data, 'site.yaml'), site);
    await aps('apply', join(data, 'site.yaml'));
  });

  it('lists the new firmware as a candidate, then walks a rollout through start, pause, promote and abort', async () => {
    const [fw] = await json<Array<{ id: number; status: string }>>('artifact', 'list');
    assert.equal(fw!.status, 'candidate');
    const r = await json<Rollout>(
      'rollout',
      'start',
      String(fw!.id),
      '--group',
      'floor1',
      '--stages',
      '50,100',
      '--max-failures',
      '1',
      '--timeout',
      '10m',
    );
    assert.equal(r.state, 'running');
    assert.equal(r.timeoutSeconds, 600);
    assert.equal(r.maxFailures, '1');
    assert.equal(r.counts.devices, hashSelected(r.id, IDS, 50).length);
    assert.match((await aps('rollout', 'pause', String(r.id))).stdout, /paused/);
    const promoted = await json<Rollout>('rollout', 'promote', String(r.id));
    assert.equal(promoted.percent, 100);
    assert.equal(promoted.counts.devices, IDS.length);
    assert.equal((await json<Rollout>('rollout', 'abort', String(r.id))).state, 'aborted');
    await fails(['rollout', 'resume', String(r.id)], /rollout \d+ is aborted/);
  });
});

// Review 12: the server and the CLI (two processes, two cores here) on one data folder.
describe('rollouts with the server and the CLI on one data folder', () => {
  const open = (dataDir: string, profilesDir: string): Core =>
    openCore(loadConfig({ env: {}, overrides: { dataDir, profilesDir } }), ADAPTERS, createLogger('silent'));
  const firmware = async (core: Core, dir: string, version: string): Promise<ArtifactRecord> => {
    writeFileSync(join(dir, `fw-${version}.bin`), `firmware ${version}`);
    return (
      await core.catalog.add(
        { path: join(dir, `fw-${version}.bin`) },
        { profile: 'vop', kind: 'firmware', version, filename: `fw-${version}.bin` },
      )
    ).artifact;
  };
  let dir: string;
  let server: Core;
  let cli: Core;
  beforeEach(() => {
    dir = tempDir('aps-rollout-two-');
    const profiles = manualProfiles(['vop']);
    server = open(join(dir, 'data'), profiles);
    cli = open(join(dir, 'data'), profiles);
  });
  afterEach(() => {
    server.close();
    cli.close();
  });

  it('an abort by the CLI while the server evaluates stays aborted, and the artifact stays unreleased (finding 3)', async () => {
    for (const id of ['a1', 'a2', 'a3']) server.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
    const a = await firmware(server, dir, '9.0');
    const r = startRollout(server, { artifactId: a.id, stages: [100], maxFailures: '100%', timeout: 1 }, 'api-test');
    // `aps rollout abort` lands just after the server's evaluation listed the active rollouts.
    const rollouts = server.store.rollouts;
    const list = rollouts.list.bind(rollouts);
    let aborted = false;
    rollouts.list = (...args) => {
      const out = list(...args);
      if (!aborted) {
        aborted = true;
        abortRollout(cli, r.id, 'cli:test');
      }
      return out;
    };
    try {
      evaluateRollouts(server, Date.now() + 60_000);
    } finally {
      rollouts.list = list;
    }
    assert.ok(aborted);
    const s = rolloutStatus(server, r.id);
    assert.equal(s.state, 'aborted', s.reason ?? '');
    assert.deepEqual(s.counts, { devices: 3, pending: 3, succeeded: 0, failed: 0 }, 'the aborted rollout was judged');
    server.devices.upsert({ id: 'late', profile: 'vop', password: 'late-pw' });
    assert.equal(server.catalog.target(server.devices.get('late')!, 'firmware'), undefined, 'an aborted candidate reached a new device');
  });

  it('a device deleted during a rollout is no failure, and a new device of its id inherits nothing (finding 5)', async () => {
    for (const id of ['b1', 'b2', 'b3']) server.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
    const a = await firmware(server, dir, '10.0');
    const r = startRollout(server, { artifactId: a.id, stages: [100], maxFailures: 0, timeout: 60 }, 'api-test');
    cli.devices.remove('b2');
    cli.devices.remove('b3');
    cli.devices.upsert({ id: 'b3', profile: 'vop', password: 'b3-new-pw' });
    assert.equal(server.catalog.target(server.devices.get('b3')!, 'firmware'), undefined, 'the new b3 got the old b3 rollout target');
    // b1 fetches the new image completely: vop's health is `fetch`.
    server.events.record({ deviceId: 'b1', adapter: 'vop', file: 'firmware', status: 200, bytes: a.size, artifactId: a.id });
    server.events.flush();
    evaluateRollouts(server, Date.now() + 120_000);
    const s = rolloutStatus(server, r.id);
    assert.equal(s.state, 'completed', s.reason ?? '');
    assert.deepEqual(
      s.devices.map((d) => [d.deviceId, d.status]),
      [['b1', 'succeeded']],
    );
  });

  it("the server's evaluation never waits for the CLI's write lock: the rollout is judged once the lock is free", async () => {
    for (const id of ['w1', 'w2']) server.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
    const a = await firmware(server, dir, '11.0');
    const r = startRollout(server, { artifactId: a.id, stages: [100], maxFailures: 0, timeout: 600 }, 'api-test');
    for (const id of ['w1', 'w2'])
      server.events.record({ deviceId: id, adapter: 'vop', file: 'firmware', status: 200, bytes: a.size, artifactId: a.id });
    server.events.flush();
    // `aps apply` (or any CLI write) holds the lock: waiting would block every device request for the busy timeout, then throw.
    cli.store.transaction(() => {
      const watched = evaluateRollouts(server, Date.now(), { server: true });
      assert.deepEqual([...watched].sort(), ['w1', 'w2'], 'its devices stay watched');
      assert.equal(rolloutStatus(cli, r.id).counts.succeeded, 0, 'nothing was judged under the lock');
    }, 'immediate');
    evaluateRollouts(server, Date.now(), { server: true });
    const s = rolloutStatus(server, r.id);
    assert.equal(s.state, 'completed', s.reason ?? '');
    assert.equal(s.counts.succeeded, 2);
  });

  it('the artifact an abort returns devices to cannot be removed without --force (finding 6)', async () => {
    for (const id of ['p1', 'p2']) server.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
    const old = await firmware(server, dir, '1');
    server.store.rollouts.release(old.id, 'approved earlier', new Date().toISOString());
    const next = await firmware(server, dir, '2');
    const r = startRollout(server, { artifactId: next.id, stages: [100] }, 'api-test');
    await assert.rejects(cli.catalog.retire(old.id, { force: false }), /previous firmware target of 2 devices of rollout \d+.*aborted/);
    abortRollout(cli, r.id, 'cli:test');
    assert.equal(server.catalog.target(server.devices.get('p1')!, 'firmware')?.id, old.id);
  });
});

describe('GET /api/v1/rollouts/:id only reads (finding 7)', () => {
  let s: TestServer;
  before(async () => {
    // No tick during the test: only a request could judge the devices.
    s = await startTestServer({ profilesDir: manualProfiles(['vop']), rollouts: { tickSeconds: 3600 } });
  });
  after(async () => {
    await s.stop();
  });

  it('a status read judges, halts, promotes and completes nothing', async () => {
    for (const id of ['g1', 'g2']) s.core.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
    const a = await s.core.catalog.addBuffer(Buffer.from('firmware 11'), {
      profile: 'vop',
      kind: 'firmware',
      version: '11',
      filename: 'fw-11.bin',
    });
    const r = startRollout(s.core, { artifactId: a.id, stages: [100], maxFailures: 0, timeout: 1 }, 'api-test');
    await sleep(1100); // past the devices' timeout: an evaluation would fail them and halt the rollout
    const read = await rolloutOf(s, r.id);
    assert.deepEqual([read.state, read.counts.pending], ['running', 2]);
    assert.equal(rolloutStatus(s.core, r.id).state, 'running');
  });
});
