import type { Catalog } from '../catalog/catalog.ts';
import type { KvState } from '../kv-state.ts';
import type { Logger } from '../log.ts';

/** What happened to one upstream file in a run. */
export interface SourceFileResult {
  file: string;
  status: 'added' | 'unchanged' | 'skipped' | 'failed';
  reason?: string;
  artifactId?: number;
  version?: string;
  /** Bytes fetched for this file in this run (0 when the remembered listing said it was unchanged). */
  downloaded?: number;
}

/** One run of one source: per-file results, and `error` when the run as a whole could not complete. */
export interface SourceRunResult {
  source: string;
  type: 'sftp' | 'folder';
  ok: boolean;
  error?: string;
  startedAt: string;
  finishedAt: string;
  added: number;
  unchanged: number;
  skipped: number;
  failed: number;
  downloadedBytes: number;
  files: SourceFileResult[];
}

/** What a source needs from the core: the catalog, its persisted state, a scratch folder and a logger. */
export interface SourceDeps {
  catalog: Catalog;
  /** `new KvState(store, 'sources')`: the remembered (name, size, mtime) → sha256 of imported files. */
  state: KvState;
  dataDir: string;
  log: Logger;
  /** Aborts a run in flight (server shutdown): the connection is closed and temp files removed. */
  signal?: AbortSignal;
}

export function finishRun(
  source: string,
  type: SourceRunResult['type'],
  startedAt: Date,
  files: SourceFileResult[],
  error?: string,
): SourceRunResult {
  const count = (s: SourceFileResult['status']): number => files.filter((f) => f.status === s).length;
  const failed = count('failed');
  return {
    source,
    type,
    ok: error === undefined && failed === 0,
    ...(error === undefined ? {} : { error }),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    added: count('added'),
    unchanged: count('unchanged'),
    skipped: count('skipped'),
    failed,
    downloadedBytes: files.reduce((n, f) => n + (f.downloaded ?? 0), 0),
    files,
  };
}
