import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Command } from 'commander';
import { ADAPTERS } from '../adapters/index.ts';
import { buildProgram } from '../src/cli/main.ts';
import { apsCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

// Every command that prints a result offers --json (scripts read it), and what it prints parses.
// `serve` prints no result: it runs until stopped; `backup show` and `backup diff` print a file and a diff
// as they are (the content itself is the output, as `cat` and `diff` would print it).
const NO_RESULT = new Set(['serve', 'backup show', 'backup diff']);

function leaves(c: Command, path: string[] = []): Array<{ name: string; cmd: Command }> {
  if (c.commands.length === 0) return [{ name: path.join(' '), cmd: c }];
  return c.commands.flatMap((s) => leaves(s, [...path, s.name()]));
}

describe('--json on every command that prints a result', () => {
  let data: string;
  let env: NodeJS.ProcessEnv;
  const { aps } = apsCli(() => env);
  const json = async (...args: string[]): Promise<Record<string, unknown>> => {
    const out = await aps(...args).then(
      (r) => r.stdout,
      (e: Error & { code: number; stdout: string }) => (e.code === 2 ? e.stdout : Promise.reject(e)),
    );
    return JSON.parse(out) as Record<string, unknown>;
  };

  before(() => {
    data = tempDir('aps-cli-json-');
    env = { ...process.env, APS_DATA: data, APS_LOG_LEVEL: 'silent' };
  });

  it('every command (adapters included) but serve has a --json option', () => {
    const all = leaves(buildProgram(ADAPTERS));
    assert.ok(all.length > 15, 'the walk found the commands');
    const without = all.filter((l) => !NO_RESULT.has(l.name) && !l.cmd.options.some((o) => o.long === '--json')).map((l) => l.name);
    assert.deepEqual(without, []);
  });

  it('notify, artifact rm and device rm print JSON', async () => {
    await aps(
      'device',
      'add',
      'gw',
      '--profile',
      'audiocodes-mp124',
      '--mac',
      '00908f00dd01',
      '--var',
      'sip_host=127.0.0.1',
      '--var',
      'sip_port=9',
    );
    const n = await json('notify', 'gw', '--json');
    assert.equal(n.device, 'gw');
    assert.equal(typeof n.ok, 'boolean');
    assert.equal(typeof n.summary, 'string');

    writeFileSync(join(data, 'cfg.ini'), '[SYSTEM Params]\nSyslogServerIP = 0.0.0.0\n');
    const own = await json(
      'artifact',
      'add',
      join(data, 'cfg.ini'),
      '--profile',
      'audiocodes-mp124',
      '--kind',
      'config',
      '--device',
      'gw',
      '--json',
    );
    writeFileSync(join(data, 'fw.bin'), 'firmware');
    writeFileSync(join(data, 'fw2.bin'), 'firmware two');
    const fw = await json('artifact', 'add', join(data, 'fw.bin'), '--profile', 'vop', '--kind', 'firmware', '--version', '1', '--json');
    await aps('artifact', 'add', join(data, 'fw2.bin'), '--profile', 'vop', '--kind', 'firmware', '--version', '2');
    const rmA = await json('artifact', 'rm', String(fw.id), '--json');
    assert.deepEqual([rmA.id, rmA.filename], [fw.id, 'fw.bin']);

    const rmD = await json('device', 'rm', 'gw', '--json');
    const removed = rmD.artifacts as Array<{ id: number; deviceId: string }>;
    assert.deepEqual(
      { ...rmD, artifacts: removed.map((a) => [a.id, a.deviceId]) },
      { device: 'gw', profile: 'audiocodes-mp124', removed: true, artifacts: [[own.id, 'gw']], backups: 0 },
      'the device and its own artifact, removed with it',
    );
  });

  it('avaya import-settings prints JSON', async () => {
    const file = new URL('../adapters/avaya/fixtures/samples/46xxsettings_3rdparty_sip.txt', import.meta.url).pathname;
    const out = join(data, 'avaya-group.yaml');
    const r = await json('avaya', 'import-settings', file, '--group', 'sip-phones', '--out', out, '--json');
    assert.deepEqual([r.group, r.out], ['sip-phones', out]);
    assert.ok((r.parameters as number) > 0);
  });

  it('audiocodes import-ini prints JSON', async () => {
    await aps('device', 'add', 'gw2', '--profile', 'audiocodes-mp124', '--mac', '00908f00dd02');
    const file = new URL('../adapters/audiocodes/fixtures/MP124_6.60A_export.ini', import.meta.url).pathname;
    const r = await json('audiocodes', 'import-ini', file, '--device', 'gw2', '--json');
    assert.equal(r.device, 'gw2');
    assert.equal((r.artifact as { kind: string }).kind, 'config');
    assert.ok((r.params as number) > 0 && (r.tables as number) > 0);
  });
});
