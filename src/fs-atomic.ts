import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join, basename } from 'node:path';

/** Writes a file so that readers see the old bytes or the new ones, never a partial file. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): void {
  // An owner-only file gets an owner-only folder when the folder is new (the data folder's tls/).
  mkdirSync(dirname(path), { recursive: true, mode: mode & 0o077 ? 0o755 : 0o700 });
  const tmp = atomicTemp(path);
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dirname(path));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Copies a file so that `to` is absent, the old file, or the whole copy, never a partial one: a kill mid-copy
 * leaves only a temp of writeFileAtomic's form, which the start-up sweep removes.
 */
export function copyFileAtomic(from: string, to: string, mode = 0o600): void {
  const tmp = atomicTemp(to);
  try {
    copyFileSync(from, tmp);
    chmodSync(tmp, mode);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, to);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A temp name beside `path` that ATOMIC_TEMP matches and tempWriter reads the pid from. */
function atomicTemp(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Makes a rename inside `dir` durable: the directory entry itself reaches the disk. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether a process with this id runs on this host (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A temp file older than this is a crash's leftover even when its writer's pid is in use again. */
export const STALE_TEMP_MS = 3_600_000;

/** writeFileAtomic's temp name: `.<name>.<pid>.<hex>.tmp`. */
export const ATOMIC_TEMP = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** The writer's pid in a temp file's name: `<pid>-…` (uploads, blob, backup and source temps) or writeFileAtomic's. */
export function tempWriter(file: string): number {
  return Number((/^(\d+)-/.exec(file) ?? ATOMIC_TEMP.exec(file))?.[1]);
}

/**
 * Whether a temp file was left behind by a writer that is gone. At open (`running` false), before this
 * process has written any, a file carrying our own pid is a previous process's (a container's server is
 * PID 1 at every start); in a running server's periodic sweep our own files are in progress and kept (each
 * writer removes its own). A live pid's file is kept unless it is stale; a name without a pid is left.
 */
export function leftBehind(path: string, file: string, now = Date.now(), running = false): boolean {
  const pid = tempWriter(file);
  if (running && pid === process.pid) return false;
  if (!Number.isSafeInteger(pid) || pid === process.pid || !processAlive(pid)) return true;
  try {
    return now - statSync(path).mtimeMs > STALE_TEMP_MS;
  } catch {
    return false;
  }
}

/** Removes every file of `dir` that leftBehind() says a gone writer left; returns the paths removed. */
export function removeLeftBehind(dir: string, running = false): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const file of names) {
    const path = join(dir, file);
    if (!leftBehind(path, file, Date.now(), running)) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
