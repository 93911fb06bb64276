import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeviceRegistry } from '../devices/registry.ts';
import { Keyring } from '../devices/secrets.ts';
import { openStore, type Store } from '../store/index.ts';
import { FsBlobStore } from './blob-store.ts';
import { Catalog } from './catalog.ts';
import { compareVersions } from './version-order.ts';

describe('compareVersions', () => {
  it('orders numeric segments numerically and releases above words', () => {
    assert.ok(compareVersions('1.10', '1.9') > 0);
    assert.ok(compareVersions('2.0.1', '2.0') > 0);
    assert.ok(compareVersions('1.0.1', '1.0.rc') > 0);
    assert.equal(compareVersions('6.60A.123', '6.60A.123'), 0);
    assert.ok(compareVersions('6.60A.124', '6.60A.123') > 0);
  });
});

describe('Catalog', () => {
  let dir: string;
  let store: Store;
  let catalog: Catalog;
  let devices: DeviceRegistry;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'aps-catalog-'));
    store = openStore(dir);
    catalog = new Catalog(store, new FsBlobStore(dir));
    devices = new DeviceRegistry(store, Keyring.load(dir), { needsClearSecret: () => false, assertProfile: () => undefined, credentialCacheMs: 1000 });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores identical bytes once and records md5, sha256 and size', async () => {
    const a = await catalog.addBuffer(Buffer.from('firmware-A'), { kind: 'firmware', profile: 'p', version: '1.0', filename: 'fw-a.bin' });
    const b = await catalog.addBuffer(Buffer.from('firmware-A'), { kind: 'firmware', profile: 'p2', version: '1.0', filename: 'fw-a.bin' });
    assert.equal(a.sha256, b.sha256);
    assert.equal(a.md5, createHash('md5').update('firmware-A').digest('hex'));
    assert.equal(a.size, 10);
    assert.ok(existsSync(catalog.blobs.pathOf(a.sha256)));
    await catalog.remove(b.id);
    assert.ok(existsSync(catalog.blobs.pathOf(a.sha256)), 'blob kept while another artifact uses it');
  });

  it('picks the newest matching artifact per kind, honouring models, device pins and group pins', async () => {
    const old = await catalog.addBuffer(Buffer.from('v1'), { kind: 'firmware', profile: 'q', version: '1.9', serial: 19, filename: 'fw19.bin' });
    const neu = await catalog.addBuffer(Buffer.from('v2'), { kind: 'firmware', profile: 'q', version: '1.10', serial: 110, filename: 'fw110.bin' });
    const other = await catalog.addBuffer(Buffer.from('v3'), { kind: 'firmware', profile: 'q', version: '9', serial: 900, models: ['X'], filename: 'fwx.bin' });
    const d = devices.upsert({ id: 'd1', profile: 'q', model: 'Y' });
    assert.equal(catalog.target(d, 'firmware')?.id, neu.id, 'model X artifact does not fit model Y');
    const x = devices.upsert({ id: 'd2', profile: 'q', model: 'X' });
    assert.equal(catalog.target(x, 'firmware')?.id, other.id);
    const pinned = devices.upsert({ id: 'd1', pins: { firmware: old.id } });
    assert.equal(catalog.target(pinned, 'firmware')?.id, old.id);
    devices.upsertGroup({ name: 'lab', vars: {}, pins: { firmware: old.id } });
    const grouped = devices.upsert({ id: 'd3', profile: 'q', group: 'lab' });
    assert.equal(catalog.target(grouped, 'firmware')?.id, old.id);
    assert.equal(catalog.target(grouped, 'config'), undefined);
  });

  it("prefers a device's own artifact and never offers it to another device", async () => {
    const shared = await catalog.addBuffer(Buffer.from('shared'), { kind: 'config', profile: 'r', serial: 5, filename: 'shared.cfg' });
    const a = devices.upsert({ id: 'ra', profile: 'r' });
    const b = devices.upsert({ id: 'rb', profile: 'r' });
    const own = await catalog.addBuffer(Buffer.from('own'), { kind: 'config', profile: 'r', deviceId: 'ra', filename: 'ra.cfg' });
    assert.equal(catalog.target(a, 'config')?.id, own.id);
    assert.equal(catalog.target(b, 'config')?.id, shared.id);
    const aux = await catalog.addBuffer(Buffer.from('cpt'), { kind: 'aux', role: 'cpt', profile: 'r', filename: 'tones.dat' });
    assert.deepEqual([...catalog.targets(b).keys()], ['aux:cpt', 'config']);
    assert.equal(catalog.targets(b).get('aux:cpt')?.id, aux.id);
  });

  it('refuses to remove a current target, naming the devices', async () => {
    const t = await catalog.addBuffer(Buffer.from('only'), { kind: 'bootstrap', profile: 's', version: '1', filename: 'boot.bin' });
    devices.upsert({ id: 's1', profile: 's' });
    await assert.rejects(() => catalog.remove(t.id), /current bootstrap target of s1/);
    const newer = await catalog.addBuffer(Buffer.from('newer'), { kind: 'bootstrap', profile: 's', version: '2', filename: 'boot2.bin' });
    const removed = await catalog.remove(t.id);
    assert.equal(removed.id, t.id);
    assert.equal(catalog.get(t.id), undefined);
    assert.ok(!existsSync(catalog.blobs.pathOf(t.sha256)), 'unused blob deleted');
    devices.upsert({ id: 's1', pins: { bootstrap: newer.id } });
    await assert.rejects(() => catalog.remove(newer.id), /target of s1/);
  });

  it('rejects bad metadata with clear messages', async () => {
    await assert.rejects(() => catalog.addBuffer(Buffer.from('x'), { kind: 'nope' as 'aux', profile: 'p', filename: 'a.bin' }), /kind must be one of/);
    await assert.rejects(() => catalog.addBuffer(Buffer.from('x'), { kind: 'aux', profile: 'p', filename: '../etc/passwd' }), /file name/);
    await assert.rejects(() => catalog.addBuffer(Buffer.from('x'), { kind: 'aux', profile: 'p', filename: 'a.bin', serial: -1 }), /serial/);
  });
});
