import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliActor } from '../src/admin/audit.ts';
import type { Rollout } from '../src/rollouts/rollouts.ts';
import { apsCli } from './helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

// Rollout verbs, `source sync` and artifact adds are audited by the operation both doors call (src/rollouts/rollouts.ts,
// src/sources/sync.ts, src/catalog/artifact-audit.ts addArtifact), with the actor each door passes: one row per action, whichever door, never two, never none.
const VERBS = ['start', 'pause', 'resume', 'promote', 'abort'] as const;

describe('each rollout verb, source sync and artifact add is audited exactly once, by the API and by the CLI', () => {
  const dir = tempDir('aps-audit-once-');
  const drop = join(dir, 'incoming');
  const source = { name: 'drop', type: 'folder' as const, path: drop, profile: 'vop', kind: 'firmware' as const };
  let s: TestServer;
  let ops: string;
  const { aps } = apsCli(() => ({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' }));
  const api = async <T>(path: string, status = 200): Promise<T> => {
    const res = await fetch(`${s.http}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ops}`, 'content-type': 'application/json' },
      body: path === '/rollouts' ? JSON.stringify({ artifactId: 1, stages: '50,100' }) : undefined,
    });
    const body = (await res.json()) as T;
    assert.equal(res.status, status, `POST ${path}: ${JSON.stringify(body)}`);
    return body;
  };
  /** Every audit row of one action on one target: who recorded it. */
  const whoDid = (action: string, target: string): string[] => s.core.audit.list({ action, target, limit: 1000 }).map((e) => e.who);

  before(async () => {
    mkdirSync(drop);
    writeFileSync(join(drop, 'fw-4.1.bin'), 'firmware 4.1 from a drop folder');
    writeFileSync(join(dir, 'aps.yaml'), `sources:\n  - ${JSON.stringify(source)}\n`);
    // No tick: only the admins' verbs change the rollouts (a tick could promote or complete one meanwhile).
    s = await startTestServer({ sources: [source], rollouts: { tickSeconds: 3600 } });
    ops = s.core.tokens.create('ops', 'full', 'test').token;
    // Rollouts need devices under `release: manual`: a group says so.
    s.core.devices.upsertGroup({ name: 'slow', vars: {}, pins: {}, release: 'manual' });
    for (let i = 1; i <= 8; i++) s.core.devices.upsert({ id: `d${i}`, profile: 'vop', password: `d${i}-pw`, group: 'slow' });
  });
  after(async () => {
    await s.stop();
  });

  it('source sync: one source.sync row per run, by the token through the API and by the OS user through aps sync', async () => {
    const viaApi = await api<{ ok: boolean; id: number; added: number }>('/sources/drop/sync?wait=1');
    assert.deepEqual([viaApi.ok, viaApi.added], [true, 1]);
    assert.deepEqual(whoDid('source.sync', 'drop'), ['ops']);
    await aps('--config', join(dir, 'aps.yaml'), 'sync');
    assert.deepEqual(whoDid('source.sync', 'drop'), [cliActor(), 'ops']);
    const [cli, byApi] = s.core.audit.list({ action: 'source.sync', target: 'drop' });
    assert.equal(byApi?.after && (byApi.after as { run: number }).run, viaApi.id, 'the API row names its run');
    const cliAfter = cli?.after as { run: number; ok: boolean; added: number[] };
    assert.deepEqual([cliAfter.ok, cliAfter.added], [true, []], 'the CLI run added nothing new');
    assert.ok(cliAfter.run > viaApi.id, 'the CLI row names its own run');
  });

  it('rollout start, pause, resume, promote, abort: one row each, by the token through the API', async () => {
    const started = await api<Rollout>('/rollouts', 201);
    assert.equal(started.artifactId, 1);
    for (const verb of VERBS.slice(1)) await api<Rollout>(`/rollouts/${started.id}/${verb}`);
    for (const verb of VERBS) assert.deepEqual(whoDid(`rollout.${verb}`, String(started.id)), ['ops'], `rollout.${verb}`);
  });

  it('the same verbs through aps rollout: one row each, by the OS user', async () => {
    const started = JSON.parse((await aps('rollout', 'start', '1', '--stages', '50,100', '--json')).stdout) as Rollout;
    for (const verb of VERBS.slice(1)) await aps('rollout', verb, String(started.id), '--json');
    for (const verb of VERBS) assert.deepEqual(whoDid(`rollout.${verb}`, String(started.id)), [cliActor()], `rollout.${verb}`);
    // Nothing else was recorded for either rollout (a door recording too would show here as a second row).
    const rows = s.core.audit.list({ action: 'rollout', limit: 1000 });
    assert.equal(rows.length, 2 * VERBS.length);
  });

  it('artifact add: one artifact.add row by the token (upload) and one by the OS user (aps artifact add); bytes already there, none', async () => {
    const form = new FormData();
    form.set('file', new Blob([Buffer.from('firmware 7 uploaded')]), 'fw7.bin');
    for (const [k, v] of Object.entries({ profile: 'vop', kind: 'firmware', version: '7' })) form.set(k, v);
    const up = await fetch(`${s.http}/api/v1/artifacts`, { method: 'POST', body: form, headers: { authorization: `Bearer ${ops}` } });
    assert.equal(up.status, 201);
    const uploaded = (await up.json()) as { id: number };
    writeFileSync(join(dir, 'fw8.bin'), 'firmware 8 from the shell');
    const add = async (): Promise<{ id: number; existing: boolean }> =>
      JSON.parse(
        (await aps('artifact', 'add', join(dir, 'fw8.bin'), '--profile', 'vop', '--kind', 'firmware', '--version', '8', '--json')).stdout,
      ) as {
        id: number;
        existing: boolean;
      };
    const added = await add();
    assert.equal((await add()).existing, true);
    assert.deepEqual(whoDid('artifact.add', String(uploaded.id)), ['ops']);
    assert.deepEqual(whoDid('artifact.add', String(added.id)), [cliActor()]);
  });
});
