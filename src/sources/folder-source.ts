import { importFolder } from '../catalog/folder-import.ts';
import type { Logger } from '../log.ts';
import { finishRun, type SourceDeps, type SourceFileResult, type SourceRunResult } from './result.ts';
import type { FolderSourceConfig } from './source-config.ts';

/** A local folder as a source: importFolder, reported like every other source (origin `folder:<name>`). */
export async function syncFolderSource(src: FolderSourceConfig, deps: Pick<SourceDeps, 'catalog' | 'log'>): Promise<SourceRunResult> {
  const startedAt = new Date();
  const log: Logger = deps.log.child({ source: src.name });
  try {
    const r = await importFolder(deps.catalog, src.path, {
      profile: src.profile,
      kind: src.kind,
      role: src.role,
      models: src.models,
      origin: `folder:${src.name}`,
    });
    const files: SourceFileResult[] = [
      ...r.added.map((a): SourceFileResult => ({ file: a.filename, status: 'added', artifactId: a.id, version: a.version })),
      ...r.unchanged.map((file): SourceFileResult => ({ file, status: 'unchanged' })),
      ...r.skipped.map((s): SourceFileResult => ({ file: s.file, status: 'skipped', reason: s.reason })),
    ].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    for (const a of r.added) log.info({ file: a.filename, artifact: a.id, version: a.version }, 'folder source: artifact added');
    return finishRun(src.name, 'folder', startedAt, files);
  } catch (e) {
    const error = `folder source "${src.name}": ${(e as Error).message}`;
    log.error({ err: error }, 'folder source: run failed');
    return finishRun(src.name, 'folder', startedAt, [], error);
  }
}
