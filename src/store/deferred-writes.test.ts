import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/server.ts';
import { until } from '../../test/helpers/until.ts';
import { DeferredWrites, LOCKED, unlessLocked } from './deferred-writes.ts';
import { onBackgroundWriteError, openStore, type Store } from './index.ts';
import type { RevisionRecord } from './types.ts';

const rev = (serial: number): RevisionRecord => ({ deviceId: 'd1', file: 'cfg', sha256: 'a'.repeat(64), serial, modifiedMs: serial });

function withStore(fn: (store: Store, cli: Database.Database) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = tempDir('aps-deferred-');
    const store = openStore(dir);
    const cli = new Database(join(dir, 'aps.sqlite'));
    try {
      await fn(store, cli);
    } finally {
      cli.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

describe('DeferredWrites', () => {
  it(
    'a write the CLI lock keeps out is kept, read back first, and written by the timer once the lock is gone',
    withStore(async (store, cli) => {
      const rows = new DeferredWrites<RevisionRecord>(store, 'revisions', (r) => store.state.putRevision(r));
      cli.exec('BEGIN IMMEDIATE'); // as `aps apply` holds it
      assert.equal(
        unlessLocked(store, () => store.state.putRevision(rev(1))),
        LOCKED,
        'not waited for',
      );
      rows.defer('d1/cfg', rev(1));
      rows.defer('d1/cfg', rev(2)); // a newer decision of the same key replaces the older
      assert.equal(rows.get('d1/cfg')?.serial, 2);
      assert.equal(store.state.revision('d1', 'cfg'), undefined, 'nothing written under the lock');
      cli.exec('COMMIT');
      await until(
        'written by the retry timer',
        () => store.state.revision('d1', 'cfg')?.serial,
        (s) => s === 2,
      );
      assert.equal(rows.get('d1/cfg'), undefined, 'no longer kept');
    }),
  );

  it(
    'a background write failing for another reason (disk full) keeps the rows, is reported once, and is tried again',
    withStore(async (store, cli) => {
      let failures = 2;
      const reported: string[] = [];
      const stop = onBackgroundWriteError((what, err) => reported.push(`${what}: ${(err as Error).message}`));
      try {
        const rows = new DeferredWrites<RevisionRecord>(store, 'revisions', (r) => {
          if (failures-- > 0) throw new Error('database or disk is full');
          store.state.putRevision(r);
        });
        cli.exec('BEGIN IMMEDIATE');
        rows.defer('d1/cfg', rev(7));
        cli.exec('COMMIT');
        // Two failed retries (1 s apart), then the write: the server never sees the error thrown from a timer.
        await until(
          'written after the failures',
          () => store.state.revision('d1', 'cfg')?.serial,
          (s) => s === 7,
          10_000,
        );
        assert.deepEqual(reported, ['revisions: database or disk is full'], 'one report for the failing spell');
      } finally {
        stop();
      }
    }),
  );

  it(
    'flush(true) (shutdown) waits for the lock and says what could not be written',
    withStore(async (store) => {
      const rows = new DeferredWrites<RevisionRecord>(store, 'revisions', () => {
        throw new Error('database or disk is full');
      });
      rows.defer('d1/cfg', rev(1));
      assert.throws(() => rows.flush(true), /disk is full/);
      assert.equal(rows.get('d1/cfg')?.serial, 1, 'kept: the caller logs what is lost');
      rows.forget('d1/cfg');
      rows.flush(true);
    }),
  );
});
