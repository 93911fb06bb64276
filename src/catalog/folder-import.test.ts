import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { plainRegistry } from '../../test/helpers/registry.ts';
import { tempDir } from '../../test/helpers/server.ts';
import { openStore } from '../store/index.ts';
import { FsBlobStore } from './blob-store.ts';
import { Catalog } from './catalog.ts';
import { importFolder, versionFromName } from './folder-import.ts';

describe('folder import', () => {
  const dir = tempDir('aps-import-');
  const store = openStore(join(dir, 'data'));
  const catalog = new Catalog(store, new FsBlobStore(join(dir, 'data')), plainRegistry(store, join(dir, 'data')));
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads versions from file names', () => {
    assert.equal(versionFromName('MP11x_SIP_6.60A.245.003.cmp'), '6.60A.245.003');
    assert.equal(versionFromName('FW_S_J169_R4_1_1_0_7.bin'), '169');
    assert.equal(versionFromName('vop-2.1.bin'), '2.1');
    assert.equal(versionFromName('firmware.bin'), '');
  });

  it('adds each file once, skipping hidden files, folders and bad names', async () => {
    const src = join(dir, 'fw');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'vop-1.0.bin'), 'one');
    writeFileSync(join(src, 'vop-1.1.bin'), 'two');
    writeFileSync(join(src, '.partial'), 'x');
    writeFileSync(join(src, 'bad name.bin'), 'three');
    const first = await importFolder(catalog, src, { profile: 'vop', kind: 'firmware' });
    assert.deepEqual(
      first.added.map((a) => [a.filename, a.version, a.origin]),
      [
        ['vop-1.0.bin', '1.0', 'folder'],
        ['vop-1.1.bin', '1.1', 'folder'],
      ],
    );
    assert.equal(first.skipped.length, 1);
    assert.match(first.skipped[0]!.reason, /file name/);
    const again = await importFolder(catalog, src, { profile: 'vop', kind: 'firmware' });
    assert.equal(again.added.length, 0);
    assert.deepEqual(again.unchanged, ['vop-1.0.bin', 'vop-1.1.bin']);
  });

  it('never follows a symbolic link, inside or outside the folder, and reports it as skipped', async () => {
    const outside = join(dir, 'secret.txt');
    writeFileSync(outside, 'root:x:0:0:root:/root:/bin/bash\n');
    const src = join(dir, 'links');
    mkdirSync(join(src, 'realdir'), { recursive: true });
    writeFileSync(join(src, 'vop-3.0.bin'), 'three');
    symlinkSync(outside, join(src, 'passwd-1.0.bin'));
    symlinkSync(join(src, 'vop-3.0.bin'), join(src, 'latest-3.0.bin'));
    symlinkSync(join(src, 'realdir'), join(src, 'dirlink'));
    symlinkSync(join(dir, 'nowhere'), join(src, 'dangling.bin'));
    const r = await importFolder(catalog, src, { profile: 'vop', kind: 'aux' });
    assert.deepEqual(
      r.added.map((a) => a.filename),
      ['vop-3.0.bin'],
    );
    assert.deepEqual(
      r.skipped,
      ['dangling.bin', 'dirlink', 'latest-3.0.bin', 'passwd-1.0.bin'].map((file) => ({ file, reason: 'symbolic link, not followed' })),
    );
    assert.ok(!catalog.list('vop').some((a) => a.size === 32), 'the linked file is not in the catalog');
  });
});
