import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../admin/audit.ts';
import { BackupStore } from '../backups/backup-store.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import { removeDevice } from '../devices/remove-device.ts';
import { Keyring } from '../devices/secrets.ts';
import { EventSink } from '../events/event-sink.ts';
import { createLogger } from '../log.ts';
import { openStore, type Store } from '../store/index.ts';
import { FsBlobStore } from './blob-store.ts';
import { Catalog } from './catalog.ts';
import { compareVersions } from './version-order.ts';
import { plainRegistry } from '../../test/helpers/registry.ts';

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
    devices = plainRegistry(store, dir);
    catalog = new Catalog(store, new FsBlobStore(dir), devices);
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
    const old = await catalog.addBuffer(Buffer.from('v1'), {
      kind: 'firmware',
      profile: 'q',
      version: '1.9',
      serial: 19,
      filename: 'fw19.bin',
    });
    const neu = await catalog.addBuffer(Buffer.from('v2'), {
      kind: 'firmware',
      profile: 'q',
      version: '1.10',
      serial: 110,
      filename: 'fw110.bin',
    });
    const other = await catalog.addBuffer(Buffer.from('v3'), {
      kind: 'firmware',
      profile: 'q',
      version: '9',
      serial: 900,
      models: ['X'],
      filename: 'fwx.bin',
    });
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
    await assert.rejects(
      () => catalog.addBuffer(Buffer.from('x'), { kind: 'nope' as 'aux', profile: 'p', filename: 'a.bin' }),
      /kind must be one of/,
    );
    await assert.rejects(() => catalog.addBuffer(Buffer.from('x'), { kind: 'aux', profile: 'p', filename: '../etc/passwd' }), /file name/);
    await assert.rejects(() => catalog.addBuffer(Buffer.from('x'), { kind: 'aux', profile: 'p', filename: 'a.bin', serial: -1 }), /serial/);
  });

  it('refuses pins another device, slot, profile or model could not be served, and ignores pins gone stale', async () => {
    const alice = devices.upsert({ id: 'alice', profile: 't', model: 'M1' });
    devices.upsert({ id: 'bob', profile: 't', model: 'M1' });
    const secret = await catalog.addBuffer(Buffer.from('alice sip_password=x'), {
      kind: 'config',
      profile: 't',
      deviceId: 'alice',
      filename: 'alice.cfg',
    });
    const fw = await catalog.addBuffer(Buffer.from('fw-m1'), {
      kind: 'firmware',
      profile: 't',
      models: ['M1'],
      version: '1',
      filename: 'fw.bin',
    });
    const elsewhere = await catalog.addBuffer(Buffer.from('fw-u'), { kind: 'firmware', profile: 'u', version: '1', filename: 'fwu.bin' });
    assert.throws(
      () => devices.upsert({ id: 'bob', pins: { config: secret.id } }),
      /cannot pin config to artifact \d+: it belongs to device alice/,
    );
    assert.throws(() => devices.upsert({ id: 'bob', pins: { bootstrap: fw.id } }), /it is a firmware artifact/);
    assert.throws(() => devices.upsert({ id: 'bob', pins: { firmware: 99999 } }), /no such artifact/);
    assert.throws(() => devices.upsert({ id: 'bob', pins: { firmware: elsewhere.id } }), /for profile u, not t/);
    assert.throws(() => devices.upsertGroup({ name: 'g-t', vars: {}, pins: { config: secret.id } }), /group pin is shared/);
    assert.equal(catalog.target(devices.get('bob')!, 'config'), undefined, "bob never gets alice's file");
    // Valid pins pass; when the device's model changes under one, the write is refused too.
    devices.upsert({ id: 'alice', pins: { config: secret.id, firmware: fw.id } });
    assert.throws(() => devices.upsert({ id: 'alice', model: 'M2' }), /for model M1, not M2/);
    // A pin that went stale some other way (an older database) gives the slot nothing, never the wrong file.
    assert.equal(catalog.target({ ...alice, model: 'M2', pins: { firmware: fw.id } }, 'firmware'), undefined);
    assert.equal(catalog.target({ ...alice, id: 'bob', pins: { config: secret.id } }, 'config'), undefined);
  });

  it('refuses to remove an artifact an empty group is pinned to', async () => {
    const a = await catalog.addBuffer(Buffer.from('grp'), { kind: 'firmware', profile: 'v', version: '1', filename: 'g.bin' });
    devices.upsertGroup({ name: 'empty', vars: {}, pins: { firmware: a.id } });
    await assert.rejects(() => catalog.remove(a.id), /target of group empty/);
  });

  it('refuses per-device artifacts for unknown devices or another profile, and config files it could not render', async () => {
    devices.upsert({ id: 'w1', profile: 'w' });
    await assert.rejects(
      () => catalog.addBuffer(Buffer.from('x'), { kind: 'config', profile: 'w', deviceId: 'ghost', filename: 'g.cfg' }),
      /no device ghost/,
    );
    await assert.rejects(
      () => catalog.addBuffer(Buffer.from('x'), { kind: 'config', profile: 'other', deviceId: 'w1', filename: 'g.cfg' }),
      /uses profile w, not other/,
    );
    await assert.rejects(
      () => catalog.addBuffer(Buffer.alloc(4 * 1024 * 1024 + 1), { kind: 'config', profile: 'w', filename: 'big.cfg' }),
      /config artifact may be at most/,
    );
    const big = await catalog.addBuffer(Buffer.alloc(4 * 1024 * 1024 + 1), { kind: 'firmware', profile: 'w', filename: 'big.bin' });
    assert.equal(big.size, 4 * 1024 * 1024 + 1);
  });

  it("removes a removed device's own artifacts, so a new device of that id starts clean", async () => {
    devices.upsert({ id: 'carol', profile: 'x' });
    const own = await catalog.addBuffer(Buffer.from('carol secret'), {
      kind: 'config',
      profile: 'x',
      deviceId: 'carol',
      filename: 'carol.cfg',
    });
    const log = createLogger('silent');
    const keys = Keyring.load(dir);
    const audit = new AuditLog(store);
    const backups = new BackupStore(
      { store, keys, catalog, devices, events: new EventSink(store, log), log, audit },
      { dataDir: dir, keep: 5, maxBytes: 1024 },
    );
    const { artifacts } = await removeDevice({ devices, catalog, backups, audit }, 'carol', 'test');
    assert.deepEqual(
      artifacts.map((a) => a.id),
      [own.id],
    );
    assert.equal(catalog.get(own.id), undefined);
    assert.ok(!existsSync(catalog.blobs.pathOf(own.sha256)));
    const again = devices.upsert({ id: 'carol', profile: 'x' });
    assert.equal(catalog.target(again, 'config'), undefined);
  });
});
