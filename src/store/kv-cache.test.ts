// The kv read cache and group commit (state-queries.ts, kv-cache.ts): a write is read back at once by its own
// connection, reaches other connections after its commit, never waits for another connection's write lock,
// and neither a rolled-back transaction nor another process's write leaves a stale value behind.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KvState } from '../kv-state.ts';
import { onBackgroundWriteError, openStore, type Store } from './index.ts';
import { until } from '../../test/helpers/until.ts';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** `n` connections to one new data folder (the server and the CLI, say), closed and removed after the test. */
function connections(t: TestContext, n: number): Store[] {
  const dir = mkdtempSync(join(tmpdir(), 'aps-kv-cache-'));
  const stores = Array.from({ length: n }, () => openStore(dir));
  t.after(() => {
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return stores;
}

test('kv writes: read back at once, committed for other connections, expiry and deletes honoured', async (t) => {
  const [a, b] = connections(t, 2) as [Store, Store];
  const ka = new KvState(a, 'x');
  const kb = new KvState(b, 'x');
  ka.set('dl:d1:k1', { n: 1 });
  ka.set('dl:d1:k2', { n: 2 }, 60_000);
  ka.set('dl:d2:k1', { n: 3 });
  ka.set('gone', 1, 1); // expires at once
  assert.deepEqual(ka.get('dl:d1:k1'), { n: 1 });
  assert.deepEqual(
    ka.entries('dl:d1:').map((e) => e.key),
    ['dl:d1:k1', 'dl:d1:k2'],
  );
  // Not committed yet (still this turn: the commit timer cannot have run): the other connection does not see
  // it; after the flush it does.
  assert.equal(kb.get('dl:d1:k1'), undefined);
  await sleep(5);
  assert.equal(ka.get('gone'), undefined);
  a.state.flushKv();
  await turn();
  assert.deepEqual(kb.get('dl:d1:k1'), { n: 1 });
  assert.deepEqual(
    kb.entries('dl:').map((e) => e.key),
    ['dl:d1:k1', 'dl:d1:k2', 'dl:d2:k1'],
  );
  // A listing cached before a write under its prefix is not served stale.
  ka.delete('dl:d1:k1');
  ka.set('dl:d1:k3', { n: 4 });
  assert.deepEqual(
    ka.entries('dl:d1:').map((e) => e.key),
    ['dl:d1:k2', 'dl:d1:k3'],
  );
  assert.equal(ka.get('dl:d1:k1'), undefined);
  // Another connection's commit: seen by the first from its next event-loop turn (PRAGMA data_version).
  a.state.flushKv();
  kb.set('dl:d1:k2', { n: 20 });
  b.state.flushKv();
  await turn();
  assert.deepEqual(ka.get('dl:d1:k2'), { n: 20 });
  assert.deepEqual(
    ka.entries('dl:d1:').map((e) => e.value),
    [{ n: 20 }, { n: 4 }],
  );
  // Without a flush call, the timer commits.
  ka.set('late', 'yes');
  await until(
    'the timer committed it for the other connection',
    () => kb.get('late'),
    (v) => v === 'yes',
  );
});

test('kv: a rolled-back transaction leaves no value in the cache', async (t) => {
  const [a] = connections(t, 1) as [Store];
  const kv = new KvState(a, 'x');
  kv.set('k', 'before');
  a.state.flushKv();
  assert.equal(kv.get('k'), 'before');
  assert.throws(() =>
    a.transaction(() => {
      kv.set('k', 'inside');
      assert.equal(kv.get('k'), 'inside');
      throw new Error('roll back');
    }),
  );
  assert.equal(kv.get('k'), 'before');
  await turn();
  assert.equal(kv.get('k'), 'before');
});

test('kv: a commit refused by another connection holding the write lock is kept and lands once the lock is free', async (t) => {
  const [a, cli] = connections(t, 2) as [Store, Store];
  const kv = new KvState(a, 'x');
  cli.transaction(() => new KvState(cli, 'y').set('lock', 1)); // a harmless write first: the file exists
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // The "CLI" takes the write lock and keeps it across event-loop turns.
  const db = (cli as unknown as { db: { exec(s: string): void } }).db;
  db.exec('BEGIN IMMEDIATE');
  kv.set('k', 'v');
  a.state.flushKv(); // busy: returns (busy_timeout 0 for the commit), the write kept and still read back
  assert.equal(kv.get('k'), 'v');
  assert.equal(new KvState(cli, 'x').get('k'), undefined);
  setTimeout(() => {
    db.exec('COMMIT');
    release();
  }, 50);
  await held;
  // The retry (every 20 ms) commits it once the lock is free: wait for that.
  await until(
    'committed by the retry once the lock is free',
    () => new KvState(cli, 'x').get('k'),
    (v) => v === 'v',
  );
});

test('kv knownAbsent: a made-up key reads as absent without a statement, until another connection commits it', async (t) => {
  const [a, b] = connections(t, 2) as [Store, Store];
  const ka = new KvState(a, 'x');
  const kb = new KvState(b, 'x');
  ka.knownAbsent('nonce:n1');
  assert.equal(ka.get('nonce:n1'), undefined);
  // The hint never hides a row written since: this connection's own write, or another connection's commit.
  ka.set('nonce:n1', 1);
  assert.equal(ka.get('nonce:n1'), 1);
  ka.knownAbsent('nonce:n1'); // a write not yet committed wins over the hint
  assert.equal(ka.get('nonce:n1'), 1);
  ka.knownAbsent('nonce:n2');
  await turn();
  kb.set('nonce:n2', 7);
  b.state.flushKv();
  await turn();
  assert.equal(ka.get('nonce:n2'), 7, "another connection's commit drops the hint");
});

test('kv knownAbsent: a write over a made-up key takes the hint as the value it goes over, without reading it', async (t) => {
  const [a, b] = connections(t, 2) as [Store, Store];
  const ka = new KvState(a, 'x');
  const kb = new KvState(b, 'x');
  await turn();
  ka.knownAbsent('session:s1'); // a fresh random token (acs.ts): no row can hold it
  // Contrived, to see that no statement read the row: another connection commits the key in the same turn.
  kb.set('session:s1', 'theirs');
  b.state.flushKv();
  ka.set('session:s1', 'mine');
  assert.equal(ka.get('session:s1'), 'mine', 'read back at once');
  a.state.flushKv();
  await turn();
  // Had the write read the row, it would have gone over 'theirs'; with the hint's "no row" as its base, the
  // group commit's compare-and-set sees another connection's commit and lets it win.
  assert.equal(ka.get('session:s1'), 'theirs');
  assert.equal(kb.get('session:s1'), 'theirs');
});

test('kv: a group commit failing for another reason than a busy lock is reported once per failing spell', (t) => {
  const [a] = connections(t, 1) as [Store];
  const reported: string[] = [];
  t.after(onBackgroundWriteError((what, err) => reported.push(`${what}: ${(err as Error).message}`)));
  // A non-busy failure of the commit (disk full, I/O error), made real by SQLite itself.
  a.db.exec(`CREATE TEMP TRIGGER fail BEFORE INSERT ON kv BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
  const kv = new KvState(a, 'x');
  kv.set('k', 1);
  a.state.flushKv();
  a.state.flushKv(); // the retry fails the same way: not told again
  assert.deepEqual(reported, ['kv rows: disk full']);
  assert.equal(a.state.kvPendingCount(), 1, 'the write is kept');
  a.db.exec('DROP TRIGGER fail');
  a.state.flushKv();
  assert.equal(a.state.kvPendingCount(), 0);
  // A new spell is told again.
  a.db.exec(`CREATE TEMP TRIGGER fail BEFORE INSERT ON kv BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
  kv.set('k', 2);
  a.state.flushKv();
  assert.equal(reported.length, 2);
  a.db.exec('DROP TRIGGER fail');
});

test('kv: a write over an expired row survives the purge of that row before its commit (a purge is no one changing the key)', async (t) => {
  const [a] = connections(t, 1) as [Store];
  const kv = new KvState(a, 'x');
  kv.set('fails:10.0.0.1', 3, 1);
  a.state.flushKv();
  await sleep(5); // expired, still a row
  assert.equal(kv.get('fails:10.0.0.1'), undefined);
  kv.set('fails:10.0.0.1', 1, 60_000); // a new spell starts: pending
  a.state.kvPurgeExpired(Date.now()); // the hourly housekeeping runs before the commit
  a.state.flushKv();
  await turn();
  assert.equal(kv.get('fails:10.0.0.1'), 1);
  assert.equal(
    a.db.prepare<[], { value: string }>("SELECT value FROM kv WHERE ns = 'x' AND key = 'fails:10.0.0.1'").get()?.value,
    '1',
    'committed',
  );
});
