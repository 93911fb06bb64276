// A device removed and another added under the same id starts clean: nothing the removed one reported, and no
// fetch of it, lands later from a queue (the event sink's 50 ms batch, writes a CLI's lock kept out), whether
// the removal happens in the server or in another process (the CLI).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Core } from '../src/core.ts';
import { removeDevice } from '../src/devices/remove-device.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { tempDir } from './helpers/server.ts';
import { NIGHTLY, TestClock, openTestCore } from './helpers/windows.ts';

function setUp(t: { after(fn: () => void): void }): { core: Core; cli: Store; clock: TestClock } {
  const clock = new TestClock();
  clock.set('2026-01-13T12:00:00Z');
  const dataDir = tempDir();
  const core = openTestCore({ dataDir, profiles: { vop: { window: NIGHTLY } }, clock });
  const cli = openStore(dataDir); // another process's connection, as `aps device rm` has
  t.after(() => {
    cli.close();
    core.close();
  });
  return { core, cli, clock };
}

const OLD = { deviceId: 'cpe1', ip: '10.0.0.9', reported: { connectionRequestUrl: 'http://10.0.0.9:7547/old', firmware: '1.0' } };

test('a report queued before the removal is not written after it', async (t) => {
  const { core } = setUp(t);
  core.devices.upsert({ id: 'cpe1', profile: 'vop', password: 'old-pw' });
  core.events.report(OLD);
  await removeDevice(core, 'cpe1', 'test');
  core.events.flush(); // what the sink's timer does next
  core.devices.upsert({ id: 'cpe1', profile: 'vop', password: 'new-pw' });
  assert.equal(core.devices.state('cpe1'), undefined, 'the new device has no state yet');
});

test('nor read through, when the new device is added before the queue is written', async (t) => {
  const { core } = setUp(t);
  core.devices.upsert({ id: 'cpe1', profile: 'vop', password: 'old-pw' });
  core.events.report(OLD);
  await removeDevice(core, 'cpe1', 'test');
  core.devices.upsert({ id: 'cpe1', profile: 'vop', password: 'new-pw' });
  assert.equal(core.devices.state('cpe1'), undefined);
  core.events.flush();
  assert.equal(core.devices.state('cpe1'), undefined);
});

test("removed by another process (the CLI): the server's queued report for it is not written", (t) => {
  const { core, cli } = setUp(t);
  core.devices.upsert({ id: 'cpe1', profile: 'vop', password: 'old-pw' });
  core.events.report(OLD);
  cli.devices.remove('cpe1');
  core.events.flush();
  assert.equal(core.store.devices.state('cpe1'), undefined, 'no state row for a device that is gone');
});

test('a fetch a CLI lock kept out is not written for a device removed meanwhile (here or by the CLI)', async (t) => {
  const { core, cli, clock } = setUp(t);
  const one = await core.catalog.addBuffer(Buffer.alloc(100, 1), { kind: 'firmware', profile: 'vop', version: '1.0', filename: 'f1.bin' });
  for (const id of ['h1', 'h2']) core.devices.upsert({ id, profile: 'vop', password: 'x' });
  cli.db.exec('BEGIN IMMEDIATE'); // a CLI command holds the write lock (aps apply, a sync)
  core.windows.noteFetched('h1', one); // kept in memory, written when the lock is gone
  core.windows.noteFetched('h2', one);
  cli.db.exec("DELETE FROM devices WHERE id = 'h2'"); // `aps device rm h2`, inside the CLI's transaction
  cli.db.exec('COMMIT');
  await removeDevice(core, 'h1', 'test'); // removed in the server
  core.windows.flush(true);
  clock.set('2026-01-14T12:00:00Z'); // outside the window: a device that fetched before is held, a new one is not
  for (const id of ['h1', 'h2']) {
    core.devices.upsert({ id, profile: 'vop', password: 'y' });
    assert.equal(core.windows.mode(core.devices.get(id)!), 'fresh', `${id} is a new device`);
  }
});
