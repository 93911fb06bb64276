import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { apsCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

describe('aps artifact import and aps apply: refusals (no server running)', () => {
  let data: string;
  let env: NodeJS.ProcessEnv;
  const { aps, fails } = apsCli(() => env);

  before(() => {
    data = tempDir('aps-cli-refusals-');
    env = { ...process.env, APS_DATA: data, APS_LOG_LEVEL: 'silent' };
  });

  it('artifact import skips a symbolic link (here to a file outside the folder) and says so', async () => {
    const secret = join(data, 'passwd');
    writeFileSync(secret, 'root:x:0:0:root:/root:/bin/bash\n');
    const dir = join(data, 'fw');
    mkdirSync(dir);
    writeFileSync(join(dir, 'vop-1.0.bin'), 'firmware one');
    symlinkSync(secret, join(dir, 'passwd-9.9.bin'));
    const { stdout } = await aps('artifact', 'import', dir, '--profile', 'vop', '--kind', 'firmware');
    assert.match(stdout, /skipped passwd-9\.9\.bin: symbolic link, not followed/);
    assert.match(stdout, /1 added, 0 already in the catalog, 1 skipped/);
    const list = JSON.parse((await aps('artifact', 'list', '--json')).stdout) as Array<{ filename: string }>;
    assert.deepEqual(
      list.map((a) => a.filename),
      ['vop-1.0.bin'],
    );
  });

  it('apply refuses a file naming one device id twice, naming the id and both entries, and applies nothing', async () => {
    const file = join(data, 'dup.yaml');
    writeFileSync(
      file,
      [
        'devices:',
        '  - { id: d1, profile: vop, password: pw1 }',
        '  - { id: d2, profile: vop }',
        '  - { id: d1, profile: vop, password: other }',
      ].join('\n'),
    );
    await fails(['apply', file], /dup\.yaml: devices\[0\] and devices\[2\] have the same id "d1"/);
    await fails(['device', 'show', 'd2'], /no device d2/);
    writeFileSync(file, ['devices:', '  - { id: d1, profile: vop, password: pw1 }', '  - { id: d2, profile: vop }'].join('\n'));
    assert.equal(JSON.parse((await aps('apply', file, '--json')).stdout).devices.length, 2, 'without the duplicate it applies');
  });

  it('apply refuses one group name twice', async () => {
    const file = join(data, 'dupg.yaml');
    writeFileSync(file, ['groups:', '  - { name: lab, vars: { a: "1" } }', '  - { name: lab, vars: { a: "2" } }'].join('\n'));
    await fails(['apply', file], /groups\[0\] and groups\[1\] have the same name "lab"/);
  });

  it('apply refuses other metadata for an artifact it applied before, and writes nothing', async () => {
    writeFileSync(join(data, 'fw-5.bin'), 'firmware five');
    const file = join(data, 'art.yaml');
    writeFileSync(file, ['artifacts:', '  - { file: fw-5.bin, profile: vop, kind: firmware, version: "5.0", serial: 50 }'].join('\n'));
    await aps('apply', file);
    assert.match((await aps('apply', file)).stdout, /1 unchanged/);
    writeFileSync(
      file,
      [
        'devices:',
        '  - { id: late, profile: vop }',
        'artifacts:',
        '  - { file: fw-5.bin, profile: vop, kind: firmware, version: "5.0", serial: 51 }',
      ].join('\n'),
    );
    await fails(
      ['apply', file],
      /art\.yaml: artifacts\[0\] \(fw-5\.bin\): artifact \d+ has these bytes and version with another serial; artifacts cannot be edited/,
    );
    await fails(['device', 'show', 'late'], /no device late/);
  });

  it('apply refuses an artifact the catalog would refuse (another profile than its device, a config too large) before writing anything', async () => {
    writeFileSync(join(data, 'own.cfg'), 'x');
    writeFileSync(join(data, 'huge.cfg'), Buffer.alloc(4 * 1024 * 1024 + 1));
    const file = join(data, 'bad-art.yaml');
    writeFileSync(
      file,
      [
        'devices:',
        '  - { id: early, profile: vop }',
        'artifacts:',
        '  - { file: own.cfg, profile: thomson-tr069, kind: config, device: early }',
      ].join('\n'),
    );
    await fails(['apply', file], /artifacts\[0\] \(own\.cfg\): device early uses profile vop, not thomson-tr069/);
    writeFileSync(
      file,
      ['devices:', '  - { id: early, profile: vop }', 'artifacts:', '  - { file: huge.cfg, profile: vop, kind: config }'].join('\n'),
    );
    await fails(['apply', file], /artifacts\[0\] \(huge\.cfg\): a config artifact may be at most 4194304 bytes/);
    await fails(['device', 'show', 'early'], /no device early/);
  });

  it('apply refuses a pin naming no artifacts entry, or an entry that does not fit the device, before writing anything', async () => {
    writeFileSync(join(data, 'vop-9.bin'), 'vop nine');
    const file = join(data, 'pins.yaml');
    const write = (pin: string): void =>
      writeFileSync(
        file,
        [
          'artifacts:',
          '  - { file: vop-9.bin, profile: vop, kind: firmware, version: "9" }',
          'devices:',
          `  - { id: pinned, profile: audiocodes-mp124, mac: 00908f00ee01, pins: { ${pin} } }`,
        ].join('\n'),
      );
    write('firmware: nope.bin');
    await fails(
      ['apply', file],
      /devices\[0\] \(pinned\): pin firmware: "nope\.bin" is neither an artifact id nor the file of an artifacts entry/,
    );
    write('firmware: vop-9.bin');
    await fails(['apply', file], /devices\[0\] \(pinned\): cannot pin firmware to vop-9\.bin: it is for profile vop, not audiocodes-mp124/);
    write('config: vop-9.bin');
    await fails(['apply', file], /cannot pin config to vop-9\.bin: it is a firmware artifact/);
    await fails(['device', 'show', 'pinned'], /no device pinned/);
    const list = JSON.parse((await aps('artifact', 'list', '--json')).stdout) as Array<{ filename: string }>;
    assert.ok(!list.some((a) => a.filename === 'vop-9.bin'), 'no artifact added either');
  });
});
