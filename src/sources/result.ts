import type { Catalog } from '../catalog/catalog.ts';
import type { KvState } from '../kv-state.ts';
import type { Logger } from '../log.ts';

/** What happened to one upstream file in a run (one result per artifact it maps to). */
export interface SourceFileResult {
  file: string;
  /** unmapped: no manifest entry nor rule says what the file is; nothing was fetched. */
  status: 'added' | 'unchanged' | 'skipped' | 'failed' | 'unmapped';
  reason?: string;
  /** The profile it was mapped to (absent for files never mapped). */
  profile?: string;
  artifactId?: number;
  version?: string;
  /** Bytes fetched for this file in this run (0 when the remembered listing said it was unchanged). */
  downloaded?: number;
}

/** An artifact `prune: true` retired because its file left upstream, or kept because it is still a target. */
export interface PruneResult {
  artifactId: number;
  file: string;
  profile: string;
  version: string;
  status: 'retired' | 'kept';
  reason?: string;
}

export type SourceTrigger = 'cli' | 'api' | 'schedule';

/** One run of one source: per-file results, and `error` when the run as a whole could not complete. */
export interface SourceRunResult {
  /** The run's number in the history (null: the run never started, e.g. another run of it was going). */
  id: number | null;
  source: string;
  type: 'sftp' | 'folder';
  trigger: SourceTrigger;
  ok: boolean;
  error?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  added: number;
  unchanged: number;
  skipped: number;
  failed: number;
  unmapped: number;
  downloadedBytes: number;
  files: SourceFileResult[];
  /** Only with `prune: true`, after a complete listing. */
  pruned: PruneResult[];
}

/** Progress of one transfer: sent as bytes arrive; `done` once the file is complete or failed. */
export interface SourceProgress {
  source: string;
  file: string;
  bytes: number;
  total: number;
  done: boolean;
}

/** What a source needs from the core: the catalog, its persisted state, a scratch folder and a logger. */
export interface SourceDeps {
  catalog: Catalog;
  /** `new KvState(store, 'sources')`: the remembered (name, size, mtime) → digests of imported files. */
  state: KvState;
  dataDir: string;
  log: Logger;
  /** The models a profile lists (empty: any), or undefined for an unknown profile. */
  profileModels?: (profile: string) => readonly string[] | undefined;
  /** The profile as loaded (a fingerprint): a file the catalog refused is tried again when it changes. */
  profileFingerprint?: (profile: string) => string;
  /** A profile's `release:` policy (a source with `rollout:` maps only to `release: manual` profiles). */
  profileRelease?: (profile: string) => 'auto' | 'manual' | undefined;
  /** Aborts a run in flight (server shutdown): the connection is closed and temp files removed. */
  signal?: AbortSignal;
  onProgress?: (p: SourceProgress) => void;
}

/** What a reader's part of a run produced, before the runner adds pruning, hooks and the record. */
export interface SyncOutcome {
  files: SourceFileResult[];
  error?: string;
  /** Every regular file name the upstream listing held, when the listing was complete (for prune). */
  listed?: string[];
}

export function finishRun(
  base: { id: number | null; source: string; type: SourceRunResult['type']; trigger: SourceTrigger; startedAt: Date },
  outcome: SyncOutcome,
  pruned: PruneResult[] = [],
): SourceRunResult {
  const { files, error } = outcome;
  const count = (s: SourceFileResult['status']): number => files.filter((f) => f.status === s).length;
  const failed = count('failed');
  const finished = new Date();
  return {
    id: base.id,
    source: base.source,
    type: base.type,
    trigger: base.trigger,
    ok: error === undefined && failed === 0,
    ...(error === undefined ? {} : { error }),
    startedAt: base.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - base.startedAt.getTime(),
    added: count('added'),
    unchanged: count('unchanged'),
    skipped: count('skipped'),
    failed,
    unmapped: count('unmapped'),
    downloadedBytes: files.reduce((n, f) => n + (f.downloaded ?? 0), 0),
    files,
    pruned,
  };
}
