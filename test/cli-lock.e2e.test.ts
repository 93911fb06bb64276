import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

// Issue 15: "A CLI holding the SQLite write lock must never stall device requests." Another connection
// holds the write lock (as `aps apply` does) for the whole of each device request below; a server that
// waited for it would answer after the store's busy timeout, with a 500. What a request decides meanwhile
// (a new revision, a completed fetch) is answered at once and written when the lock is free.
describe('device requests while another process holds the write lock', () => {
  let s: TestServer;
  let other: Database.Database;
  const user = 'lock-vop';
  const q = `u=${user}&p=lock-pw`;

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: user, profile: 'vop', password: 'lock-pw' });
    await s.core.catalog.addBuffer(Buffer.from('firmware 7'), {
      kind: 'firmware',
      profile: 'vop',
      version: '7.0',
      serial: 7,
      filename: 'fw7.bin',
    });
    assert.equal((await fetch(`${s.http}/vop/c?${q}`)).status, 200, 'a first config, stamped as revision 1');
    other = new Database(join(s.dataDir, 'aps.sqlite'));
  });
  after(async () => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    await s.stop();
  });

  it('a changed config gets its next revision at once, and the revision is written once the lock is free', async () => {
    s.core.devices.upsert({ id: user, vars: { language: 'de' } });
    const before = s.core.store.state.revision(user, 'config')!;
    other.exec('BEGIN IMMEDIATE');
    try {
      const cfg = await fetch(`${s.http}/vop/c?${q}`);
      assert.equal(cfg.status, 200);
      assert.match(await cfg.text(), /language=de/);
      const info = await fetch(`${s.http}/vop/i?${q}`);
      assert.equal(info.status, 200, 'the info file too');
      await info.text();
      const fw = await fetch(`${s.http}/vop/f?${q}`);
      assert.equal(fw.status, 200);
      assert.equal(await fw.text(), 'firmware 7', 'the firmware, whose completed fetch is recorded later');
      assert.equal(s.core.store.state.revision(user, 'config')!.serial, before.serial, 'nothing was written under the lock');
    } finally {
      other.exec('COMMIT');
    }
    // Written by the retry timers (about a second): wait for the rows.
    const stored = await until(
      'the new revision is stored',
      () => s.core.store.state.revision(user, 'config')!.serial,
      (n) => n !== before.serial,
    );
    assert.equal(stored, before.serial + 1, 'the next revision');
    const held = await until('the completed fetch is recorded', () => s.core.store.windows.held(user, 'slot:firmware')?.artifactId);
    assert.equal(held, s.core.catalog.list('vop')[0]!.id, 'the completed fetch is recorded');
    // The stored revision is the one the device was given: the same bytes keep it.
    const again = await fetch(`${s.http}/vop/c?${q}`);
    assert.equal(again.headers.get('last-modified'), new Date(s.core.store.state.revision(user, 'config')!.modifiedMs).toUTCString());
  });
});
