import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

/** Writes a file so that readers see the old bytes or the new ones, never a partial file. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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

/**
 * Whether a temp file named `<pid>-…` was left behind by a writer that is gone. Called when a store opens,
 * before this process has written any: a file carrying our own pid is then a previous process's (a
 * container's server is PID 1 at every start), and a live pid's file is kept unless it is stale.
 */
export function leftBehind(path: string, file: string, now = Date.now()): boolean {
  const pid = Number(/^(\d+)-/.exec(file)?.[1]);
  if (!Number.isSafeInteger(pid) || pid === process.pid || !processAlive(pid)) return true;
  try {
    return now - statSync(path).mtimeMs > STALE_TEMP_MS;
  } catch {
    return false;
  }
}

/** Removes every file of `dir` that leftBehind() says a gone writer left; returns how many. */
export function removeLeftBehind(dir: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const file of names) {
    const path = join(dir, file);
    if (!leftBehind(path, file)) continue;
    rmSync(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
