import { constants, createReadStream, lstatSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceDeps, SyncOutcome } from './result.ts';
import type { FolderSourceConfig } from './source-config.ts';
import { syncEntries, type SourceEntry } from './source-sync.ts';

/**
 * A local folder as a source (origin `folder:<name>`), mapped, verified and added like an SFTP mirror. Symbolic
 * links are never followed (a link to /etc/passwd must not become an artifact served to devices): they are
 * listed as skipped.
 */
export async function syncFolderSource(src: FolderSourceConfig, deps: SourceDeps): Promise<SyncOutcome> {
  return syncEntries(
    src,
    {
      list: () => Promise.resolve(listFolder(src.path)),
      // O_NOFOLLOW: a file replaced by a link between the listing and the read is refused, not followed.
      read: (name) => createReadStream('', { fd: openSync(join(src.path, name), constants.O_RDONLY | constants.O_NOFOLLOW) }),
      lost: () => undefined,
    },
    deps,
  );
}

function listFolder(dir: string): SourceEntry[] {
  const out: SourceEntry[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const st = lstatSync(join(dir, name));
    if (st.isSymbolicLink()) out.push({ name, size: 0, mtime: 0, skip: 'symbolic link, not followed' });
    else if (st.isFile()) out.push({ name, size: st.size, mtime: Math.floor(st.mtimeMs) });
  }
  return out;
}
