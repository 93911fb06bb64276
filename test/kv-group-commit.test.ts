// Review 15b evidence: the kv group commit (src/store/state-queries.ts kvWrite/flushKv) losing or reordering writes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvState } from '../src/kv-state.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { nonceCountCheck } from '../src/transport/digest.ts';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function folder(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'aps-kv-commit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Two connections to one data folder (two nodes, or the server and a CLI), closed after the test. */
function twoStores(t: TestContext): [Store, Store] {
  const dir = folder(t);
  const a = openStore(dir);
  const b = openStore(dir);
  t.after(() => {
    a.close();
    b.close();
  });
  return [a, b];
}

test('kv: a write still pending survives a rolled-back transaction that wrote the same key', async (t) => {
  const dir = folder(t);
  const a = openStore(dir);
  const kv = new KvState(a, 'x');
  kv.set('k', 'before'); // pending (group commit), not flushed
  assert.throws(() =>
    a.transaction(() => {
      kv.set('k', 'inside');
      throw new Error('roll back');
    }),
  );
  // The write made before the transaction was never undone by anyone: it must still be there.
  assert.equal(kv.get('k'), 'before', 'read back by its own connection');
  a.close();
  const b = openStore(dir);
  t.after(() => b.close());
  assert.equal(new KvState(b, 'x').get('k'), 'before', 'committed for other connections');
});

test('kv: a later commit of another connection is not overwritten by an earlier pending write', async (t) => {
  const [a, b] = twoStores(t);
  const ka = new KvState(a, 'x');
  const kb = new KvState(b, 'x');
  ka.set('k', 'first'); // server: pending
  await turn();
  kb.set('k', 'second'); // CLI, later in time: committed at once
  b.state.flushKv();
  await turn();
  a.state.flushKv(); // the server's group commit, 10 ms later
  await turn();
  assert.equal(kb.get('k'), 'second', 'the older write does not land over the newer one');
  assert.equal(ka.get('k'), 'second', 'the server reads the newer committed value');
});

test('kv: closing the store while another connection holds the write lock does not silently drop pending writes', async (t) => {
  const dir = folder(t);
  const a = openStore(dir);
  const cli = openStore(dir);
  t.after(() => cli.close());
  cli.transaction(() => new KvState(cli, 'y').set('init', 1));
  const db = cli.db;
  db.exec('BEGIN IMMEDIATE');
  new KvState(a, 'x').set('k', 'v');
  let threw = false;
  try {
    a.close(); // waits busy_timeout (5 s) for the lock, then...
  } catch {
    threw = true;
  }
  db.exec('COMMIT');
  await turn();
  const landed = new KvState(cli, 'x').get('k') === 'v';
  assert.ok(landed || threw, 'the write either landed or close() reported that it could not commit it');
});

test('nonce-count: a Digest answer replayed to a second node sharing the data folder is refused', async (t) => {
  // ARCHITECTURE.md: state "is in the store, so a second node ... loses nothing"; tr069/auth.ts: the nonce-count
  // is kept "in the store, so every node sees it": a captured header is accepted once per count.
  const [node1, node2] = twoStores(t);
  const kv1 = new KvState(node1, 'tr069');
  const kv2 = new KvState(node2, 'tr069');
  const check1 = nonceCountCheck(kv1, 'nonce:');
  const check2 = nonceCountCheck(kv2, 'nonce:');
  kv1.knownAbsent('nonce:abc'); // node 1 issued the challenge (auth.ts challenge())
  assert.equal(check1('abc', 1), true, 'the CPE answer, on node 1');
  await turn(); // the replay a few milliseconds later, on node 2
  assert.equal(check2('abc', 1), false, 'the same header replayed to node 2');
});

test('kv: a failed group commit is not thrown into an unrelated later write, and that write is kept', async (t) => {
  const dir = folder(t);
  const a = openStore(dir);
  t.after(() => a.close());
  const db = a.db;
  // A transient non-busy failure of the commit (disk full, I/O error), made real by SQLite itself for one key.
  db.exec(`CREATE TEMP TRIGGER fail_once BEFORE INSERT ON kv WHEN NEW.key = 'device-1' BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
  const kv = new KvState(a, 'x');
  kv.set('device-1', 'session');
  a.state.flushKv();
  db.exec('DROP TRIGGER fail_once'); // the condition passes
  // Another device's request writes its own state: it must neither fail for device-1's commit nor lose its write.
  assert.doesNotThrow(() => kv.set('device-2', 'session'));
  a.state.flushKv();
  await turn();
  assert.equal(kv.get('device-2'), 'session');
  // Read by another connection, not from the pending rows: both writes were committed.
  const b = openStore(dir);
  t.after(() => b.close());
  const kb = new KvState(b, 'x');
  assert.deepEqual([kb.get('device-1'), kb.get('device-2')], ['session', 'session'], 'committed, the failed one on the next commit');
});
