import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apsCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

describe('aps CLI against a data folder (no server running)', () => {
  let data: string;
  let env: NodeJS.ProcessEnv;
  const { aps, fails } = apsCli(() => env);

  before(() => {
    data = tempDir('aps-cli-');
    env = { ...process.env, APS_DATA: data, APS_LOG_LEVEL: 'silent' };
  });
  after(() => rmSync(data, { recursive: true, force: true }));

  it('lists its commands with --help', async () => {
    const { stdout } = await aps('--help');
    for (const c of ['serve', 'artifact', 'device', 'apply', 'preview', 'simulate', 'notify'])
      assert.match(stdout, new RegExp(`\\b${c}\\b`));
  });

  it('applies a YAML file idempotently', async () => {
    const dir = join(data, 'site');
    mkdirSync(dir);
    writeFileSync(join(dir, 'fw.bin'), 'firmware bytes');
    writeFileSync(
      join(dir, 'site.yaml'),
      [
        'groups:',
        '  - name: lab',
        '    vars: { language: de }',
        'devices:',
        '  - { id: op7, profile: vop, password: pw7, group: lab, vars: { sip_password: s7 } }',
        '  - { id: op8, profile: vop, password: pw8 }',
        'artifacts:',
        '  - { file: fw.bin, profile: vop, kind: firmware, version: "5.0", serial: 50 }',
      ].join('\n'),
    );
    type Result = { groups: unknown[]; devices: unknown[]; artifacts: Array<{ result: string }>; created: number; unchanged: number };
    const counts = (r: Result): unknown => [r.groups.length, r.devices.length, r.artifacts.map((a) => a.result), r.created, r.unchanged];
    const first = JSON.parse((await aps('apply', join(dir, 'site.yaml'), '--json')).stdout) as Result;
    assert.deepEqual(counts(first), [1, 2, ['created'], 4, 0]);
    const shown = async (): Promise<{ updatedAt: string }> =>
      JSON.parse((await aps('device', 'show', 'op7', '--json')).stdout) as { updatedAt: string };
    const before = await shown();
    const second = JSON.parse((await aps('apply', join(dir, 'site.yaml'), '--json')).stdout) as Result;
    assert.deepEqual(counts(second), [1, 2, ['unchanged'], 0, 4]);
    assert.equal((await shown()).updatedAt, before.updatedAt, 'the same password again is no change (no new hash)');
    const list = JSON.parse((await aps('artifact', 'list', '--json')).stdout) as unknown[];
    assert.equal(list.length, 1);
  });

  it('applies nothing from a file with a bad entry, and names the entry', async () => {
    const file = join(data, 'bad.yaml');
    writeFileSync(
      file,
      ['devices:', '  - { id: good1, profile: vop, password: pw }', '  - { id: bad2, profile: vop, mac: zz }'].join('\n'),
    );
    await fails(['apply', file], /devices\[1\] \(bad2\): "zz" is not a MAC address/);
    writeFileSync(
      file,
      ['devices:', '  - { id: good1, profile: vop }', 'artifacts:', '  - { file: nope.bin, profile: vop, kind: aux }'].join('\n'),
    );
    await fails(['apply', file], /artifacts\[0\] \(nope\.bin\): the file cannot be read/);
    await fails(['device', 'show', 'good1'], /no device good1/);
  });

  it('shows a device with its setup, targets and masked secrets', async () => {
    const v = JSON.parse((await aps('device', 'show', 'op7', '--json')).stdout);
    assert.equal(v.profile, 'vop');
    assert.equal(v.group, 'lab');
    assert.equal(v.vars.sip_password, '********');
    assert.equal(v.targets.firmware.version, '5.0');
    assert.match(v.setup.url, /\/vop\/\$t\?u=\$u&p=\$p&v=\$v$/);
    assert.equal(v.setup.credentials.username, 'op7');
    assert.ok(!JSON.stringify(v).includes('pw7'), 'the password is never printed');
  });

  it('previews what the device would receive, with group variables applied', async () => {
    const files = JSON.parse((await aps('preview', 'op7', '--json')).stdout) as Array<{ name: string; text?: string }>;
    assert.deepEqual(
      files.map((f) => f.name),
      ['info', 'firmware', 'config'],
    );
    assert.match(files[2]!.text!, /language=de/);
    assert.match(files[0]!.text!, /<serial>50<\/serial>/);
  });

  it('sets and unsets variables and pins', async () => {
    await aps('device', 'set', 'op8', '--var', 'language=it', '--pin', 'firmware=1');
    let v = JSON.parse((await aps('device', 'show', 'op8', '--json')).stdout);
    assert.equal(v.vars.language, 'it');
    assert.deepEqual(v.pins, { firmware: 1 });
    await aps('device', 'set', 'op8', '--var', 'language=', '--pin', 'firmware=');
    v = JSON.parse((await aps('device', 'show', 'op8', '--json')).stdout);
    assert.deepEqual(v.vars, {});
    assert.deepEqual(v.pins, {});
  });

  it('approves a pending device with --status', async () => {
    await aps('device', 'add', '00147F-TG784-CP9', '--profile', 'thomson-tr069', '--status', 'pending');
    assert.equal(JSON.parse((await aps('device', 'show', '00147F-TG784-CP9', '--json')).stdout).status, 'pending');
    await aps('device', 'set', '00147F-TG784-CP9', '--status', 'active');
    assert.equal(JSON.parse((await aps('device', 'show', '00147F-TG784-CP9', '--json')).stdout).status, 'active');
    await fails(['device', 'set', '00147F-TG784-CP9', '--status', 'maybe'], /--status must be active or pending/);
  });

  it('gives clear errors for bad input', async () => {
    await fails(['device', 'add', 'x1', '--profile', 'nope'], /unknown profile "nope"/);
    await fails(['device', 'add', 'op7', '--profile', 'vop'], /already exists/);
    await fails(['device', 'set', 'ghost', '--var', 'a=b'], /no device ghost/);
    await fails(['device', 'set', 'op8', '--var', 'novalue'], /must be KEY=VALUE/);
    await fails(['device', 'set', 'op8', '--mac', 'xyz'], /not a MAC address/);
    await fails(['artifact', 'add', join(data, 'missing.bin'), '--profile', 'vop', '--kind', 'firmware'], /ENOENT|no such file/);
    await fails(['artifact', 'rm', '1'], /current firmware target of op7, op8/);
    await fails(['device', 'show', 'ghost'], /no device ghost/);
  });

  it('removes devices', async () => {
    await aps('device', 'rm', 'op8');
    const { stdout } = await aps('device', 'list');
    assert.match(stdout, /op7/);
    assert.doesNotMatch(stdout, /op8/);
  });
});
