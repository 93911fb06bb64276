import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Core } from '../src/core.ts';
import { NIGHTLY, TestClock, openTestCore } from './helpers/windows.ts';

// The gate on its own (real store, real catalog): what a device is offered in and out of its window.
describe('WindowGate', () => {
  const clock = new TestClock();
  let core: Core;
  const device = (id: string) => core.devices.get(id)!;
  const fw = (n: number) =>
    core.catalog.addBuffer(Buffer.alloc(100, n), { kind: 'firmware', profile: 'vop', version: `${n}.0`, filename: `f${n}.bin` });
  const offered = (id: string) => core.windows.offered(device(id), 'firmware', core.catalog.target(device(id), 'firmware'));

  before(() => {
    clock.set('2026-01-13T12:00:00Z');
    core = openTestCore({ profiles: { vop: { window: NIGHTLY } }, clock });
  });
  after(() => core.close());

  it('holds what a device fetched; a removed held artifact leaves the slot empty until the window opens', async () => {
    core.devices.upsert({ id: 'g1', profile: 'vop', password: 'x' });
    const one = await fw(1);
    assert.equal(core.windows.mode(device('g1')), 'fresh', 'new');
    core.windows.noteFetched('g1', one);
    clock.set('2026-01-14T12:00:00Z');
    assert.equal(core.windows.mode(device('g1')), 'hold');
    const two = await fw(2);
    assert.equal(offered('g1')?.id, one.id);
    assert.deepEqual(core.windows.pendingSlots(device('g1'), core.catalog.targets(device('g1'))), ['firmware']);
    await core.catalog.retire(one.id, { force: true });
    assert.equal(offered('g1'), undefined);
    clock.set('2026-01-15T02:30:00Z');
    assert.equal(offered('g1')?.id, two.id);
  });

  it('a group window overrides the profile window', () => {
    clock.set('2026-01-15T12:00:00Z');
    core.devices.upsertGroup({ name: 'noon', vars: {}, pins: {} });
    core.windows.setGroupWindow('noon', { days: ['thu'], from: '11:00', to: '13:00', tz: 'UTC', newDevices: 'serve', push: false });
    core.devices.upsert({ id: 'g1', group: 'noon' });
    assert.equal(core.windows.view(device('g1'))?.source, 'group');
    assert.equal(core.windows.view(device('g1'))?.open, true);
    assert.equal(core.windows.mode(device('g1')), 'fresh');
  });

  it('a device removed and added again under the same id is new again', async () => {
    clock.set('2026-01-16T12:00:00Z');
    core.devices.upsert({ id: 'g2', profile: 'vop', password: 'x' });
    core.windows.noteRendered(device('g2'), 'info', Buffer.from('a'), 'sha-a');
    clock.set('2026-01-17T12:00:00Z');
    assert.equal(core.windows.mode(device('g2')), 'hold');
    core.devices.remove('g2');
    core.devices.upsert({ id: 'g2', profile: 'vop', password: 'x' });
    assert.equal(core.windows.mode(device('g2')), 'fresh');
    core.windows.noteRendered(device('g2'), 'info', Buffer.from('a'), 'sha-a');
    assert.ok(core.windows.heldFile('g2', 'info'), 'held again, though the same bytes were noted before the removal');
  });
});
