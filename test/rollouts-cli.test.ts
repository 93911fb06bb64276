import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Rollout } from '../src/rollouts/rollouts.ts';
import { apsCli } from './helpers/cli.ts';
import { hashSelected } from './helpers/rollouts.ts';
import { tempDir } from './helpers/server.ts';

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
