import { readdirSync, rmSync, statSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import { ATOMIC_TEMP, leftBehind, removeLeftBehind } from './fs-atomic.ts';

/** The folders of the data folder that hold only temp files, each named `<pid>-…` by the process writing it. */
export const TEMP_DIRS: readonly string[] = ['uploads', join('blobs', 'tmp'), join('sources', 'tmp'), join('backups', 'tmp')];

/** Every file and folder under `dir` (symbolic links are not followed), deepest last. */
function* walk(dir: string): Generator<{ path: string; entry: Dirent }> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // removed meanwhile, or not readable: nothing of ours to sweep there
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    yield { path, entry };
    if (entry.isDirectory()) yield* walk(path);
  }
}

/**
 * Removes the temp files a killed writer left anywhere in the data folder: uploads, blob, source (`.part`)
 * and backup temps, and writeFileAtomic's `.<name>.<pid>.<hex>.tmp` wherever it wrote. `running` is the
 * periodic sweep of a live server, which keeps its own files in progress. Returns the paths removed.
 */
export function sweepLeftovers(dataDir: string, running = false): string[] {
  const removed = TEMP_DIRS.flatMap((d) => removeLeftBehind(join(dataDir, d), running));
  const now = Date.now();
  for (const { path, entry } of walk(dataDir)) {
    if (!entry.isFile() || !ATOMIC_TEMP.test(entry.name) || !leftBehind(path, entry.name, now, running)) continue;
    rmSync(path, { force: true });
    removed.push(path);
  }
  return removed;
}

/**
 * The data folder itself and what it holds that other local users may read or enter (any group or other
 * permission bit), as paths relative to the data folder ('.' for itself). The database holds password
 * hashes and sealed secrets; APS creates files 0600 and folders 0700, and only warns about older ones.
 */
export function looseModes(dataDir: string): string[] {
  const loose: string[] = [];
  try {
    if (statSync(dataDir).mode & 0o077) loose.push('.');
  } catch {
    return loose;
  }
  for (const { path, entry } of walk(dataDir)) {
    if (!entry.isFile() && !entry.isDirectory()) continue;
    try {
      if (statSync(path).mode & 0o077) loose.push(relative(dataDir, path));
    } catch {
      // removed meanwhile
    }
  }
  return loose;
}
