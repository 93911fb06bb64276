// Review 15b evidence: a fetch another process's write lock kept from being recorded (gate.ts noteFetched
// `unwritten`) is not consulted by offered(): once the window closes the device is offered what it held before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../src/store/index.ts';
import { tempDir } from './helpers/server.ts';
import { NIGHTLY, TestClock, openTestCore } from './helpers/windows.ts';

test('gate: a fetch recorded late (lock held by the CLI) is what the device holds after the window closes', async (t) => {
  const clock = new TestClock();
  clock.set('2026-01-13T12:00:00Z');
  const dataDir = tempDir();
  const core = openTestCore({ dataDir, profiles: { vop: { window: NIGHTLY } }, clock });
  const cli = openStore(dataDir);
  t.after(() => {
    cli.close();
    core.close();
  });
  const fw = (n: number) =>
    core.catalog.addBuffer(Buffer.alloc(100, n), { kind: 'firmware', profile: 'vop', version: `${n}.0`, filename: `f${n}.bin` });
  const device = () => core.devices.get('h1')!;
  const offered = () => core.windows.offered(device(), 'firmware', core.catalog.target(device(), 'firmware'));
  core.devices.upsert({ id: 'h1', profile: 'vop', password: 'x' });
  const one = await fw(1);
  core.windows.noteFetched('h1', one); // new device: holds 1.0
  clock.set('2026-01-14T12:00:00Z');
  const two = await fw(2);
  assert.equal(offered()?.id, one.id, 'outside the window: what it holds');
  clock.set('2026-01-15T02:30:00Z'); // the window is open: 2.0 is offered and fetched
  assert.equal(offered()?.id, two.id);
  const db = cli.db;
  db.exec('BEGIN IMMEDIATE'); // a CLI command holds the write lock (aps apply, a sync)
  core.windows.noteFetched('h1', two); // kept in `unwritten`, retried by a timer
  clock.set('2026-01-15T03:00:01Z'); // the window closes while the lock is still held
  try {
    assert.equal(offered()?.id, two.id, 'the device holds 2.0: it must not be told to go back to 1.0');
  } finally {
    db.exec('COMMIT');
  }
});
