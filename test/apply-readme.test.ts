import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { apsCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

// The README's `aps apply` example, taken from the README itself so the documentation cannot drift from
// what apply accepts: applied to a fresh data folder, applied again, then applied with one change.
const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The fenced yaml block right after the `apply-example` marker. */
function readmeExample(): string {
  const text = readFileSync(README, 'utf8');
  const m = /<!-- apply-example[^>]*-->\s*```yaml\n([\s\S]*?)```/.exec(text);
  assert.ok(m, 'README.md has the apply example block');
  return m[1]!;
}

interface Result {
  groups: Array<{ name: string; result: string }>;
  devices: Array<{ id: string; result: string }>;
  artifacts: Array<{ file: string; id: number; result: string }>;
  created: number;
  updated: number;
  unchanged: number;
}

describe('the README apply example', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const { aps } = apsCli(() => env);
  const example = readmeExample();
  const site = (): string => join(dir, 'site.yaml');

  before(() => {
    dir = tempDir('aps-apply-readme-');
    env = { ...process.env, APS_DATA: join(dir, 'data'), APS_LOG_LEVEL: 'silent' };
    writeFileSync(site(), example);
    // The files the example names, with distinct bytes.
    const doc = parseYaml(example) as { artifacts: Array<{ file: string }> };
    for (const a of doc.artifacts) {
      mkdirSync(dirname(join(dir, a.file)), { recursive: true });
      writeFileSync(join(dir, a.file), `bytes of ${a.file}\n`);
    }
  });

  it('applies to a fresh data folder: every object created, pins by file resolved', async () => {
    const r = JSON.parse((await aps('apply', site(), '--json')).stdout) as Result;
    assert.deepEqual(
      r.groups.map((g) => [g.name, g.result]),
      [['berlin', 'created']],
    );
    assert.deepEqual(
      r.devices.map((d) => [d.id, d.result]),
      [
        ['alice', 'created'],
        ['bob', 'created'],
        ['gw-lobby', 'created'],
      ],
    );
    assert.deepEqual(
      r.artifacts.map((a) => [a.file, a.result]),
      [
        ['fw/vop-2.1.bin', 'created'],
        ['fw/vop-2.2.bin', 'created'],
        ['fw/MP124_6.60A.360.002.cmp', 'created'],
        ['cpt/de.dat', 'created'],
      ],
    );
    assert.deepEqual([r.created, r.updated, r.unchanged], [8, 0, 0]);
    const idOf = (file: string): number => r.artifacts.find((a) => a.file === file)!.id;
    type Shown = { targets: Record<string, { id: number }>; vars: Record<string, string> };
    const show = async (id: string): Promise<Shown> => JSON.parse((await aps('device', 'show', id, '--json')).stdout) as Shown;
    // alice follows the group's pin (2.1, although 2.2 is newer); bob's own pin wins.
    assert.equal((await show('alice')).targets.firmware!.id, idOf('fw/vop-2.1.bin'));
    assert.equal((await show('bob')).targets.firmware!.id, idOf('fw/vop-2.2.bin'));
    const gw = await show('gw-lobby');
    assert.equal(gw.targets.firmware!.id, idOf('fw/MP124_6.60A.360.002.cmp'));
    assert.equal(gw.targets['aux:cpt']!.id, idOf('cpt/de.dat'));
    assert.equal(gw.vars.update_frequency_minutes, '60');
  });

  it('applied again: every object unchanged, in text and JSON', async () => {
    const { stdout } = await aps('apply', site());
    const lines = stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      'group berlin: unchanged',
      'device alice: unchanged',
      'device bob: unchanged',
      'device gw-lobby: unchanged',
    ]);
    assert.match(lines[4]!, /^artifact \d+ \(fw\/vop-2\.1\.bin\): unchanged$/);
    assert.equal(lines.at(-1), `applied ${site()}: 0 created, 0 updated, 8 unchanged`);
    const r = JSON.parse((await aps('apply', site(), '--json')).stdout) as Result;
    assert.deepEqual([r.created, r.updated, r.unchanged], [0, 0, 8]);
  });

  it('one changed group variable and one changed device variable: those two updated, the rest unchanged', async () => {
    writeFileSync(site(), example.replace('language: de', 'language: en').replace('sip_host: 10.0.0.20', 'sip_host: 10.0.0.21'));
    const r = JSON.parse((await aps('apply', site(), '--json')).stdout) as Result;
    assert.deepEqual(
      [...r.groups.map((g) => [g.name, g.result]), ...r.devices.map((d) => [d.id, d.result])],
      [
        ['berlin', 'updated'],
        ['alice', 'unchanged'],
        ['bob', 'unchanged'],
        ['gw-lobby', 'updated'],
      ],
    );
    assert.deepEqual([r.created, r.updated, r.unchanged], [0, 2, 6]);
  });
});
