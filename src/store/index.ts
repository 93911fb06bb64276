import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactQueries } from './artifact-queries.ts';
import { AuditQueries } from './audit-queries.ts';
import { BackupQueries } from './backup-queries.ts';
import { openDb, withoutWaiting, type Db } from './db.ts';
import { DeviceQueries } from './device-queries.ts';
import { RolloutQueries } from './rollout-queries.ts';
import { SourceRunQueries } from './source-run-queries.ts';
import { StateQueries } from './state-queries.ts';
import { TokenQueries } from './token-queries.ts';
import { WindowQueries } from './window-queries.ts';

export * from './types.ts';
export type { DeviceScan, StateUpdate } from './device-queries.ts';
export type { FleetCountRow, FleetShared } from './state-queries.ts';
export type { RolloutDeviceRecord, RolloutDeviceStatus, RolloutRecord, RolloutState } from './rollout-queries.ts';
export { corruptValueCount, isBusyError, onBackgroundWriteError, onCorruptValue } from './db.ts';
export type { AuditQuery, AuditRecord } from './audit-queries.ts';
export type { HeldRecord } from './window-queries.ts';
export type { AdminScope, AdminTokenRecord } from './token-queries.ts';
export type { SourceRunCounts, SourceRunRecord, SourceRunStatus } from './source-run-queries.ts';

/** The only door to SQL. One instance per process, shared by every service. */
export class Store {
  readonly db: Db;
  readonly artifacts: ArtifactQueries;
  readonly devices: DeviceQueries;
  readonly state: StateQueries;
  readonly backups: BackupQueries;
  readonly rollouts: RolloutQueries;
  readonly tokens: TokenQueries;
  readonly audit: AuditQueries;
  readonly sourceRuns: SourceRunQueries;
  readonly windows: WindowQueries;

  constructor(db: Db) {
    this.db = db;
    this.state = new StateQueries(db);
    const changed = (): void => this.state.invalidateGeneration();
    this.artifacts = new ArtifactQueries(db, changed);
    this.devices = new DeviceQueries(db, changed);
    this.backups = new BackupQueries(db);
    this.rollouts = new RolloutQueries(db, changed);
    this.tokens = new TokenQueries(db);
    this.audit = new AuditQueries(db);
    this.sourceRuns = new SourceRunQueries(db);
    this.windows = new WindowQueries(db, changed);
  }

  /** Runs fn in one transaction; 'immediate' takes the write lock first, for a read followed by a write. */
  transaction<T>(fn: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
    const t = this.db.transaction(fn);
    const run = (): T => (mode === 'immediate' ? t.immediate() : t());
    if (this.db.inTransaction) return run(); // nested: a savepoint; the outermost one settles the kv rows
    let committed = false;
    try {
      const out = run();
      committed = true;
      return out;
    } finally {
      this.state.kvTransactionEnded(committed);
    }
  }

  /**
   * Runs fn without waiting for another process's write lock: a write the CLI blocks fails at once with
   * SQLITE_BUSY (isBusyError) instead of stalling the event loop, and the caller retries later.
   */
  withoutWaiting<T>(fn: () => T): T {
    return withoutWaiting(this.db, fn);
  }

  close(): void {
    try {
      this.state.flushKv({ wait: true }); // kv writes of this turn (group commit, state-queries.ts)
    } finally {
      this.db.close();
    }
  }

  /** PRAGMA integrity_check's findings: empty when the database is sound. Reads only; safe beside a running server. */
  integrityProblems(): string[] {
    const rows = this.db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const found = rows.map((r) => r.integrity_check);
    return found.length === 1 && found[0] === 'ok' ? [] : found;
  }

  /**
   * SQLite's online backup into `file` (owner-only): a consistent copy while other connections (a running
   * server) keep writing. The copy is made self-contained (rollback journal, no -wal/-shm) so it can be
   * hashed, moved and opened read-only; the first server start on it switches it back to WAL.
   */
  async backupTo(file: string): Promise<void> {
    // Every page in one step after the first: a step is one read transaction (WAL: the server's writes go on),
    // whereas a write from another connection between small steps restarts the copy, maybe for ever.
    await this.db.backup(file, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
    chmodSync(file, 0o600);
    const copy = new Database(file);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
  }
}

/** A database file opened read-only, without migrations: a backup's copy being verified. */
export function openStoreReadOnly(file: string): Store {
  return new Store(new Database(file, { readonly: true, fileMustExist: true }));
}

export function openStore(dataDir: string): Store {
  return new Store(openDb(join(dataDir, 'aps.sqlite')));
}
