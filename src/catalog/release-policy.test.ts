import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeviceRegistry } from '../devices/registry.ts';
import { openStore, type Store } from '../store/index.ts';
import { FsBlobStore } from './blob-store.ts';
import { Catalog } from './catalog.ts';
import { plainRegistry } from '../../test/helpers/registry.ts';

// `release:` per profile, overridden by a group: under `manual` a new artifact is a candidate, never a
// target by ranking; a pin or a device's own artifact still is.
describe('release policy in target selection', () => {
  let dir: string;
  let store: Store;
  let catalog: Catalog;
  let devices: DeviceRegistry;
  const fw = async (profile: string, version: string, deviceId?: string) =>
    catalog.add(
      { bytes: Buffer.from(`${profile}-${version}-${deviceId ?? ''}`) },
      { kind: 'firmware', profile, version, deviceId, filename: `fw-${version}.bin` },
    );

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'aps-release-'));
    store = openStore(dir);
    devices = plainRegistry(store, dir);
    catalog = new Catalog(store, new FsBlobStore(dir), devices, {
      orderOf: () => 'version',
      slotsOf: () => undefined,
      releaseOf: (p) => (p === 'man' ? 'manual' : 'auto'),
    });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('under release: manual a new artifact is a candidate: no device gets it, the add says why, list and device notes say so', async () => {
    devices.upsert({ id: 'm1', profile: 'man' });
    const first = await fw('man', '1.0');
    assert.match(first.warning!, /candidate \(release: manual\)/);
    assert.equal(catalog.target(devices.get('m1')!, 'firmware'), undefined);
    assert.equal(catalog.statuses([first.artifact]).get(first.artifact.id), 'candidate');
    assert.match(catalog.slotNotes(devices.get('m1')!).join('\n'), /a candidate under release: manual/);
    // A pin makes it the target.
    devices.upsert({ id: 'm1', pins: { firmware: first.artifact.id } });
    assert.equal(catalog.target(devices.get('m1')!, 'firmware')?.id, first.artifact.id);
    assert.equal(catalog.statuses([first.artifact]).get(first.artifact.id), 'target');
    // A device's own artifact is an explicit choice for it, never a candidate.
    devices.upsert({ id: 'm2', profile: 'man' });
    const own = await fw('man', '0.5', 'm2');
    assert.equal(catalog.target(devices.get('m2')!, 'firmware')?.id, own.artifact.id);
  });

  it('a group with release: manual holds back what its devices get; other devices of the profile take it at once', async () => {
    devices.upsert({ id: 'a1', profile: 'aut' });
    devices.upsert({ id: 'a2', profile: 'aut', group: 'lab' });
    const v1 = await fw('aut', '1.0');
    assert.equal(catalog.statuses([v1.artifact]).get(v1.artifact.id), 'target');
    store.devices.upsertGroup({ name: 'lab', vars: {}, pins: {}, release: 'manual' });
    const v2 = await fw('aut', '2.0');
    assert.equal(catalog.target(devices.get('a1')!, 'firmware')?.id, v2.artifact.id, 'auto device: the newest');
    assert.equal(catalog.target(devices.get('a2')!, 'firmware')?.id, v1.artifact.id, 'manual group: the released one');
    assert.equal(devices.group('lab')?.release, 'manual');
    store.devices.upsertGroup({ name: 'lab', vars: {}, pins: {}, release: null });
    assert.equal(catalog.target(devices.get('a2')!, 'firmware')?.id, v2.artifact.id, 'the override removed: the profile decides');
  });
});
