import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apsCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

// `aps apply` checks everything before it writes anything, and never ignores what it was asked to do
// (found by a review of the merged apply: a bad role half-applied the file, a new version for old bytes
// was reported "unchanged", and a pin could not name the second of two entries sharing a file name).
describe('aps apply refuses before writing, and never silently ignores', () => {
  const data = tempDir('aps-apply-');
  const site = join(data, 'site');
  mkdirSync(site);
  writeFileSync(join(site, 'fw.bin'), 'one image for two families');
  writeFileSync(join(site, 'jem.bin'), 'companion');
  const { aps, fails } = apsCli({ ...process.env, APS_DATA: data, APS_LOG_LEVEL: 'silent' });
  const write = (name: string, yaml: string): string => {
    const p = join(site, name);
    writeFileSync(p, yaml);
    return p;
  };
  const json = async (...args: string[]): Promise<unknown> => JSON.parse((await aps(...args)).stdout) as unknown;

  it('a bad role stops the file before any group, device or artifact is written', async () => {
    const file = write(
      'bad-role.yaml',
      `groups:
  - { name: g1, vars: { SIPDOMAIN: example.net } }
artifacts:
  - { file: fw.bin, profile: avaya-96x1, kind: firmware, version: "7.1.0" }
  - { file: jem.bin, profile: avaya-j100, kind: aux, role: "Bad Role", version: "1" }
devices:
  - { id: carol, profile: avaya-96x1, model: "9608", mac: "00e0bb0000c1", group: g1 }
`,
    );
    await fails(['apply', file], /role "Bad Role" must be lower-case/);
    assert.deepEqual(await json('device', 'list', '--json'), { items: [], next: null });
    assert.deepEqual(await json('artifact', 'list', '--json'), []);
  });

  it('the same bytes again with another version are refused, not reported unchanged', async () => {
    const v1 = write('v1.yaml', 'artifacts:\n  - { file: fw.bin, profile: avaya-96x1, kind: firmware, version: "7.1.0" }\n');
    await aps('apply', v1);
    const v2 = write('v2.yaml', 'artifacts:\n  - { file: fw.bin, profile: avaya-96x1, kind: firmware, version: "7.1.5" }\n');
    await fails(['apply', v2], /already holds these bytes in this slot as version "7\.1\.0"/);
    const list = (await json('artifact', 'list', '--json')) as Array<{ version: string }>;
    assert.deepEqual(
      list.map((a) => a.version),
      ['7.1.0'],
    );
  });

  it('a pin naming a file two entries share takes the entry that fits the device', async () => {
    const file = write(
      'two-profiles.yaml',
      `artifacts:
  - { file: fw.bin, profile: avaya-96x1, kind: firmware, version: "7.1.0" }
  - { file: fw.bin, profile: innovaphone-ip232, kind: firmware, version: "13.1" }
devices:
  - { id: ip232-a, profile: innovaphone-ip232, mac: "00-90-33-00-00-a1", pins: { firmware: fw.bin } }
`,
    );
    await aps('apply', file);
    const d = (await json('device', 'show', 'ip232-a', '--json')) as { pins: { firmware: number }; profile: string };
    const arts = (await json('artifact', 'list', '--json')) as Array<{ id: number; profile: string }>;
    assert.equal(arts.find((a) => a.id === d.pins.firmware)?.profile, 'innovaphone-ip232');
  });
});
