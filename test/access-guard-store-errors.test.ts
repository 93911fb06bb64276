import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

// The access guard writes through the store's kv group commit (src/store/state-queries.ts). A commit that
// fails for a reason other than a busy lock (SQLITE_READONLY here; SQLITE_FULL on a full disk) keeps its
// writes pending and tries again; the next kv write is queued like any other, never handed that error. The
// review of issue 15 found it thrown into the next write, which was lost: a failed login not counted, the
// lock one failure late per error. These tests failed then.
describe('access-guard failures through the kv group commit', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      access: {
        exemptNetworks: '',
        device: { freeFailures: 100, lockAfter: 100 },
        address: { freeFailures: 1000, lockAfter: 1000 },
        refusalsLoggedPerMinute: 1000,
      },
    });
  });
  after(() => s.stop());

  const failOnce = (deviceId: string): void => {
    const a = s.core.guard.attempt({ adapter: 'test', deviceId, ip: undefined });
    assert.equal(a.held, null);
    a.done(false);
  };
  const failures = (deviceId: string): number | undefined => s.core.guard.list().find((l) => l.subject === deviceId)?.failures;
  const kvFailures = (): number => s.core.store.state.kvWriteFailures();
  const kvPending = (): number => s.core.store.state.kvPendingCount();
  /** Waits for the group commit to have failed once more than `before` (not for a fixed time). */
  const commitFailed = (before: number): Promise<unknown> =>
    until(
      'a kv commit fails',
      () => kvFailures(),
      (n) => n > before,
    );

  it('every failed login is counted, even those made while a commit was failing', async () => {
    const db = s.core.store.db;
    failOnce('kv-dev'); // committed normally
    s.core.guard.flush();
    assert.equal(failures('kv-dev'), 1);

    const f0 = kvFailures();
    db.pragma('query_only = 1'); // the store cannot write for a moment
    failOnce('kv-dev'); // 2: pending; its commit (10 ms later) fails
    await commitFailed(f0);
    failOnce('kv-dev'); // 3: must be counted too
    failOnce('kv-dev'); // 4
    db.pragma('query_only = 0'); // the store can write again
    s.core.guard.flush();
    assert.equal(kvPending(), 0, 'all committed');
    assert.equal(failures('kv-dev'), 4, 'four failed logins, four counted');
  });

  it('once the store writes again, the next failure is counted (no error of a commit already recovered from)', async () => {
    const db = s.core.store.db;
    const f0 = kvFailures();
    db.pragma('query_only = 1');
    failOnce('kv-dev2'); // pending; its commit fails, retried a second later (KV_ERROR_RETRY_MS)
    await commitFailed(f0);
    db.pragma('query_only = 0');
    await until(
      'the retry commits it',
      () => kvPending(),
      (n) => n === 0,
    );
    assert.equal(failures('kv-dev2'), 1, 'the pending failure was committed on the retry');
    failOnce('kv-dev2'); // the store is healthy: this one must be counted
    s.core.guard.flush();
    assert.equal(failures('kv-dev2'), 2, 'a failed login after the store recovered is counted');
  });
});
