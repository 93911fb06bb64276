// Issue 9, points 1-3: the catalog's explicit order per profile, one duplicate check for every path,
// the slots a profile's adapter serves, and removing a target with --force.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeviceRegistry } from '../devices/registry.ts';
import { RenderedFiles } from '../render/rendered-files.ts';
import { RevisionStore } from '../render/revisions.ts';
import { openStore, type Store } from '../store/index.ts';
import { FsBlobStore } from './blob-store.ts';
import { Catalog, type ArtifactOrder } from './catalog.ts';
import { importFolder } from './folder-import.ts';
import { plainRegistry } from '../../test/helpers/registry.ts';

describe('Catalog order, duplicates, slots and forced removal', () => {
  let dir: string;
  let store: Store;
  let catalog: Catalog;
  let devices: DeviceRegistry;
  const orders: Record<string, ArtifactOrder> = { byserial: 'serial', byadded: 'added' };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'aps-catalog-order-'));
    store = openStore(dir);
    devices = plainRegistry(store, dir);
    catalog = new Catalog(store, new FsBlobStore(dir), devices, {
      orderOf: (p) => orders[p] ?? 'version',
      slotsOf: (p) =>
        p === 'phone'
          ? [{ kind: 'firmware' }, { kind: 'config' }, { kind: 'aux', roles: ['cpt'] }]
          : p === 'open'
            ? [{ kind: 'aux', roles: 'any' }, { kind: 'firmware' }]
            : undefined,
    });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fw = (profile: string, text: string, version: string, serial: number | null = null): ReturnType<Catalog['addBuffer']> =>
    catalog.addBuffer(Buffer.from(text), { kind: 'firmware', profile, version, serial, filename: `${text}.bin` });

  it('by version (the default): a synced firmware without a serial outranks a hand-added one with a serial', async () => {
    const d = devices.upsert({ id: 'v1', profile: 'byversion' });
    await fw('byversion', 'hand-2.2', '2.2', 21);
    const synced = await fw('byversion', 'sync-5.0', '5.0');
    await fw('byversion', 'sync-3.0', '3.0');
    assert.equal(catalog.target(d, 'firmware')?.id, synced.id);
    assert.equal(catalog.orderOf('byversion'), 'version');
  });

  it('by serial: a higher serial wins, one without a serial counts lowest', async () => {
    const d = devices.upsert({ id: 's1', profile: 'byserial' });
    const hand = await fw('byserial', 'ser-2.2', '2.2', 21);
    await fw('byserial', 'ser-5.0', '5.0');
    assert.equal(catalog.target(d, 'firmware')?.id, hand.id);
  });

  it('by time added: the last one added wins, whatever its version', async () => {
    const d = devices.upsert({ id: 'a1', profile: 'byadded' });
    await fw('byadded', 'add-5.0', '5.0', 50);
    const last = await fw('byadded', 'add-1.0', '1.0', 1);
    assert.equal(catalog.target(d, 'firmware')?.id, last.id);
  });

  it('says why an artifact just added will not become anyone’s target', async () => {
    devices.upsert({ id: 'w1', profile: 'warn' });
    const high = await catalog.add(
      { bytes: Buffer.from('w-5') },
      { kind: 'firmware', profile: 'warn', version: '5.0', filename: 'w5.bin' },
    );
    assert.equal(high.warning, undefined, 'the new highest artifact becomes the target: nothing to say');
    const low = await catalog.add({ bytes: Buffer.from('w-4') }, { kind: 'firmware', profile: 'warn', version: '4.0', filename: 'w4.bin' });
    assert.match(low.warning ?? '', new RegExp(`artifact ${high.artifact.id} .*5\\.0.* ranks higher by version`));
    devices.upsert({ id: 'w1', pins: { firmware: low.artifact.id } });
    const top = await catalog.add({ bytes: Buffer.from('w-6') }, { kind: 'firmware', profile: 'warn', version: '6.0', filename: 'w6.bin' });
    assert.match(top.warning ?? '', /every device it fits is pinned: w1/);
    // A device's own artifact outranks a shared one: the warning names what each device gets instead.
    devices.upsert({ id: 'o1', profile: 'warn-own' });
    const own = await catalog.addBuffer(Buffer.from('own-1'), { kind: 'config', profile: 'warn-own', deviceId: 'o1', filename: 'o1.cfg' });
    const shared = await catalog.add(
      { bytes: Buffer.from('shared-9') },
      { kind: 'config', profile: 'warn-own', version: '9', filename: 's.cfg' },
    );
    assert.match(shared.warning ?? '', new RegExp(`will not become anyone's config target: o1 gets artifact ${own.id}$`));
    // device show: the latest addition of a slot that is not the device's target, and why.
    assert.deepEqual(catalog.slotNotes(devices.get('w1')!), [
      `firmware: artifact ${top.artifact.id} (6.0), added last, is not the target: pinned to artifact ${low.artifact.id}`,
    ]);
  });

  it('adding bytes that already fill the slot returns the existing artifact, from every path', async () => {
    const first = await catalog.add(
      { bytes: Buffer.from('dup') },
      { kind: 'firmware', profile: 'dup', version: '1.0', filename: 'dup.bin' },
    );
    assert.equal(first.existing, false);
    const again = await catalog.add({ bytes: Buffer.from('dup') }, { kind: 'firmware', profile: 'dup', version: '1.0', filename: 'x.bin' });
    assert.equal(again.existing, true);
    assert.equal(again.artifact.id, first.artifact.id);
    const file = join(dir, 'dup.bin');
    writeFileSync(file, 'dup');
    assert.equal((await catalog.addFile(file, { kind: 'firmware', profile: 'dup', version: '1.0' })).id, first.artifact.id);
    // Another slot (another model) is another artifact.
    const m = await catalog.addFile(file, { kind: 'firmware', profile: 'dup', version: '1.0', models: ['M'] });
    assert.notEqual(m.id, first.artifact.id);
    assert.equal(catalog.list('dup').length, 2);
    // Sources and folder imports go through the same check.
    const folder = join(dir, 'dup-folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'fw-1.0.bin'), 'dup');
    const r = await importFolder(catalog, folder, { profile: 'dup', kind: 'firmware' });
    assert.equal(r.added.length, 0);
    assert.equal(catalog.list('dup').length, 2);
  });

  it('accepts only the kinds and roles the profile’s adapter serves', async () => {
    await assert.rejects(
      () => catalog.addBuffer(Buffer.from('x'), { kind: 'aux', role: 'x', profile: 'phone', filename: 'x.bin' }),
      /profile phone accepts firmware, config, aux:cpt; not aux:x/,
    );
    await assert.rejects(
      () => catalog.addBuffer(Buffer.from('y'), { kind: 'bootstrap', profile: 'phone', filename: 'y.bin' }),
      /not bootstrap/,
    );
    await assert.rejects(
      () => catalog.addBuffer(Buffer.from('z'), { kind: 'firmware', role: 'r', profile: 'phone', filename: 'z.bin' }),
      /not firmware:r/,
    );
    const cpt = await catalog.addBuffer(Buffer.from('cpt'), { kind: 'aux', role: 'cpt', profile: 'phone', filename: 'c.bin' });
    assert.equal(cpt.role, 'cpt');
    // A source (a folder import) reports the refusal as a skipped file, with the same message.
    const folder = join(dir, 'slot-folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'boot-1.bin'), 'boot');
    const r = await importFolder(catalog, folder, { profile: 'phone', kind: 'bootstrap' });
    assert.match(r.skipped[0]?.reason ?? '', /profile phone accepts firmware, config, aux:cpt; not bootstrap/);
    const any = await catalog.addBuffer(Buffer.from('any'), { kind: 'aux', role: 'whatever', profile: 'open', filename: 'a.bin' });
    assert.equal(any.role, 'whatever');
  });

  it('--force moves the devices of a target to the previous artifact of the slot, pins included', async () => {
    const v1 = await fw('force', 'f-1', '1.0');
    const v2 = await fw('force', 'f-2', '2.0');
    const v3 = await fw('force', 'f-3', '3.0');
    devices.upsert({ id: 'free', profile: 'force' });
    devices.upsert({ id: 'held', profile: 'force', pins: { firmware: v2.id } });
    devices.upsertGroup({ name: 'fg', vars: {}, pins: { firmware: v3.id } });
    devices.upsert({ id: 'grouped', profile: 'force', group: 'fg' });
    await assert.rejects(() => catalog.remove(v3.id), /current firmware target of free, group fg, grouped/);
    const r = await catalog.retire(v3.id, { force: true });
    assert.equal(catalog.get(v3.id), undefined);
    assert.deepEqual(r.moved, [
      { subject: 'free', from: v3.id, to: v2.id },
      { subject: 'group fg', from: v3.id, to: v2.id },
      { subject: 'grouped', from: v3.id, to: v2.id },
    ]);
    assert.equal(catalog.target(devices.get('free')!, 'firmware')?.id, v2.id);
    assert.equal(devices.group('fg')?.pins.firmware, v2.id);
    const r2 = await catalog.retire(v2.id, { force: true });
    assert.equal(devices.get('held')?.pins.firmware, v1.id, 'a pinned device stays pinned, one step back');
    assert.ok(r2.moved.some((m) => m.subject === 'held' && m.to === v1.id));
    const r3 = await catalog.retire(v1.id, { force: true });
    assert.ok(
      r3.moved.every((m) => m.to === null),
      'nothing left: the slot is empty',
    );
    assert.equal(devices.get('held')?.pins.firmware, undefined);
  });

  it('announces a protocol serial that only grows, whatever the order or a pin does', async () => {
    const revisions = new RevisionStore(store);
    const rendered = new RenderedFiles(store, revisions);
    const d = devices.upsert({ id: 'ser', profile: 'serial-grow' });
    const hand = await fw('serial-grow', 'g-2.2', '2.2', 21);
    const first = rendered.artifactSerial(d.id, 'firmware', catalog.target(d, 'firmware')!);
    assert.equal(first, 21, 'the first announcement is the artifact’s own serial (what was announced before)');
    const synced = await fw('serial-grow', 'g-5.0', '5.0');
    const old = await fw('serial-grow', 'g-3.0', '3.0');
    assert.equal(catalog.target(d, 'firmware')?.id, synced.id);
    const second = rendered.artifactSerial(d.id, 'firmware', synced);
    assert.ok(second > first, `${second} > ${first}`);
    assert.equal(rendered.artifactSerial(d.id, 'firmware', synced), second, 'stable while the target stays');
    const pinned = devices.upsert({ id: 'ser', pins: { firmware: old.id } });
    const third = rendered.artifactSerial(pinned.id, 'firmware', catalog.target(pinned, 'firmware')!);
    assert.ok(third > second, 'pinning an older firmware still announces a greater serial');
    const peek = rendered.readOnly().artifactSerial(d.id, 'firmware', hand);
    assert.ok(peek > third);
    assert.equal(rendered.artifactSerial(d.id, 'firmware', old), third, 'a preview moved nothing');
  });

  it('after an upgrade of APS, the first serial is at least any the slot could have announced before', async () => {
    const rendered = new RenderedFiles(store, new RevisionStore(store));
    const d = devices.upsert({ id: 'upgraded', profile: 'serial-grow' });
    // An older APS announced the hand-added 2.2's serial 22 to this device; the synced 9.0 has none.
    await fw('serial-grow', 'u-2.2', '2.2', 22);
    const synced = await fw('serial-grow', 'u-9.0', '9.0');
    assert.equal(catalog.target(d, 'firmware')?.id, synced.id);
    assert.ok(rendered.artifactSerial(d.id, 'firmware', synced) >= 22, 'never below what the device may hold');
  });
});
