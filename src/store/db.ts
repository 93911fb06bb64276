import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { ApsError } from '../errors.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

/** How long a write waits for another process's (the CLI's) write lock, except where it must not wait at all. */
export const BUSY_TIMEOUT_MS = 5000;

/** Whether an error is SQLite's "another connection holds the lock" (a retry later succeeds). */
export function isBusyError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const RESTORE_BUSY_TIMEOUT = `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`;

/**
 * Runs fn without waiting for another process's write lock: a write the CLI blocks fails at once with
 * SQLITE_BUSY (isBusyError) instead of stalling the event loop, and the caller retries later.
 */
export function withoutWaiting<T>(db: Db, fn: () => T): T {
  // exec, not db.pragma(): the same statement without a Statement object and a result row to build (~2 us
  // instead of ~14 us the pair; paid by every Digest nonce-count commit, issue 15).
  db.exec('PRAGMA busy_timeout = 0');
  try {
    return fn();
  } finally {
    db.exec(RESTORE_BUSY_TIMEOUT);
  }
}

/** Opens (creating if needed) the SQLite file in WAL mode and runs pending migrations in one transaction each. */
export function openDb(file: string): Db {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Created owner-only before SQLite opens it: SQLite gives the -wal and -shm files the database's mode.
    closeSync(openSync(file, 'a', 0o600));
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

let corruptValues = 0;
const corruptListeners = new Set<(where: string) => void>();

/** Values found corrupt since start (metrics), and a listener told of each (the server logs them). */
export function corruptValueCount(): number {
  return corruptValues;
}

export function onCorruptValue(fn: (where: string) => void): () => void {
  corruptListeners.add(fn);
  return () => corruptListeners.delete(fn);
}

const writeErrorListeners = new Set<(what: string, err: unknown) => void>();

/**
 * A background write (rows a lock kept out, retried on a timer) failed for another reason (disk full, I/O):
 * the rows are kept and tried again; the listener (the server's log) is told once per failing spell.
 */
export function onBackgroundWriteError(fn: (what: string, err: unknown) => void): () => void {
  writeErrorListeners.add(fn);
  return () => writeErrorListeners.delete(fn);
}

export function reportBackgroundWriteError(what: string, err: unknown): void {
  for (const l of writeErrorListeners) l(what, err);
}

/**
 * A JSON column's value; empty means `fallback`. A value that does not parse is reported (counted, logged
 * by the server's listener) and refused with an error naming it: read as its default it would silently
 * change what a device is given (pins, variables) or what the fleet view says.
 */
export function parseJson<T>(text: string | null | undefined, fallback: T, where: string): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    corruptValues++;
    for (const fn of corruptListeners) fn(where);
    throw new ApsError('corrupt_data', `the store holds a corrupt value (${where}); repair it or restore a backup`);
  }
}
