import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Core } from '../core.ts';
import { ApsError, isApsError } from '../errors.ts';
import { processAlive, removeLeftBehind } from '../fs-atomic.ts';
import { KvState } from '../kv-state.ts';
import type { ArtifactRecord, SourceRunRecord } from '../store/index.ts';
import { syncFolderSource } from './folder-source.ts';
import { pruneRemoved } from './prune.ts';
import {
  finishRun,
  type PruneResult,
  type SourceDeps,
  type SourceProgress,
  type SourceRunResult,
  type SourceTrigger,
  type SyncOutcome,
} from './result.ts';
import { autoUnderRollout, type SourceHooks } from './rollout-hook.ts';
import { scheduleSources, type SourceScheduler } from './scheduler.ts';
import { syncSftpSource } from './sftp-source.ts';
import type { SourceConfig } from './source-config.ts';
import { cleanMessage, sourceTempDir } from './source-sync.ts';

/** The part of the core a source run uses. */
export type SourceCore = Pick<Core, 'config' | 'catalog' | 'profiles' | 'store' | 'log' | 'audit'>;

/**
 * How a run was asked for. A run an admin asked for (`aps sync`, POST /sources/:name/sync) carries `who` and is
 * audited once, as `source.sync`, when it finishes (execute below); a scheduled run is no admin change.
 */
export type SourceRunOptions = {
  signal?: AbortSignal;
  onProgress?: (p: SourceProgress) => void;
} & ({ trigger: Exclude<SourceTrigger, 'schedule'>; who: string } | { trigger: 'schedule' });

/** The configured sources, or the one named (an unknown name is an error listing the known ones). */
export function selectSources(core: Pick<Core, 'config'>, name?: string): SourceConfig[] {
  const all = core.config.sources;
  if (name === undefined) return [...all];
  const s = all.find((x) => x.name === name);
  if (!s) throw new ApsError('not_found', `no source "${name}" (configured: ${all.map((x) => x.name).join(', ') || 'none'})`);
  return [s];
}

/** A source naming an unknown profile fails start-up, not its first scheduled run hours later. */
export function assertSourceProfiles(core: Pick<Core, 'config' | 'profiles'>): void {
  core.config.sources.forEach((s, i) => {
    const named: Array<[string, string]> = [];
    if (s.profile) named.push([`sources.${i}.profile`, s.profile]);
    s.map?.forEach((r, j) => r.profile && named.push([`sources.${i}.map.${j}.profile`, r.profile]));
    for (const [path, p] of named) {
      const profile = core.profiles.get(p);
      if (!profile) throw new ApsError('invalid_config', `${path}: no profile "${p}" (source "${s.name}")`);
      if (s.rollout && profile.release !== 'manual') throw new ApsError('invalid_config', autoUnderRollout(path, s.name, p));
    }
  });
}

// Runs of this process, by data folder and run id: a 'running' row carrying our own pid is ours only if listed
// here (a container's server is PID 1 at every start, so a row left by a killed one carries our pid too).
const ownRuns = new Set<string>();
/** A run recorded by another host cannot be checked; after this long it is taken as abandoned. */
const FOREIGN_RUN_MAX_MS = 24 * 3_600_000;

/**
 * Starts and records source runs for one core: the CLI, the admin API and the schedules all go through it, so
 * every run is in the history and two runs of one source never overlap (in this process or another one on the
 * same data folder).
 */
export class SourceRunner {
  private readonly core: SourceCore;
  private hooks: SourceHooks;
  private readonly abort = new AbortController();
  private readonly inFlight = new Map<number, Promise<SourceRunResult>>();
  /** The transfer each run in flight is at, for GET /sources/:name/runs/:id. */
  private readonly transfers = new Map<number, SourceProgress>();

  constructor(core: SourceCore, hooks: SourceHooks = {}) {
    this.core = core;
    this.hooks = hooks;
    // Created before this process fetches anything: what is in the temp folder now, a killed run left.
    removeLeftBehind(sourceTempDir(core.config.dataDir));
  }

  setHooks(hooks: SourceHooks): void {
    this.hooks = hooks;
  }

  /** Records the run and starts it; throws `conflict` when the source is already syncing. `done` never rejects. */
  start(src: SourceConfig, opts: SourceRunOptions): { id: number; done: Promise<SourceRunResult> } {
    const startedAt = new Date();
    const here = hostname();
    const own = (id: number): string => `${resolve(this.core.config.dataDir)}#${id}`;
    const begun = this.core.store.sourceRuns.begin(
      { source: src.name, type: src.type, trigger: opts.trigger, pid: process.pid, host: here, startedAt: startedAt.toISOString() },
      (r) =>
        r.host !== here
          ? startedAt.getTime() - Date.parse(r.startedAt) < FOREIGN_RUN_MAX_MS
          : r.pid === process.pid
            ? ownRuns.has(own(r.id))
            : processAlive(r.pid),
    );
    if ('running' in begun) {
      const r = begun.running;
      throw new ApsError(
        'conflict',
        `source "${src.name}" is already syncing (run ${r.id}, started ${r.startedAt} by ${r.trigger}, pid ${r.pid})`,
      );
    }
    const id = begun.id;
    ownRuns.add(own(id));
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.abort.signal]) : this.abort.signal;
    const onProgress = (p: SourceProgress): void => {
      this.transfers.set(id, p);
      opts.onProgress?.(p);
    };
    const done = this.execute(src, id, startedAt, { ...opts, onProgress }, signal).finally(() => {
      ownRuns.delete(own(id));
      this.inFlight.delete(id);
      this.transfers.delete(id);
    });
    this.inFlight.set(id, done);
    return { id, done };
  }

  /** The latest progress of a run of this process still in flight (undefined before its first transfer). */
  progressOf(id: number): SourceProgress | undefined {
    return this.transfers.get(id);
  }

  /** Runs a source now and waits; a source already syncing gives a result carrying that as its error. */
  async run(src: SourceConfig, opts: SourceRunOptions): Promise<SourceRunResult> {
    try {
      return await this.start(src, opts).done;
    } catch (e) {
      if (!isApsError(e) || e.code !== 'conflict') throw e;
      return finishRun(
        { id: null, source: src.name, type: src.type, trigger: opts.trigger, startedAt: new Date() },
        { files: [], error: e.message },
      );
    }
  }

  /** Cancels every run in flight (their connections close, temp files go) and waits for them to be recorded. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.inFlight.values());
  }

  private async execute(
    src: SourceConfig,
    id: number,
    startedAt: Date,
    opts: SourceRunOptions,
    signal: AbortSignal,
  ): Promise<SourceRunResult> {
    const { core } = this;
    // The readers add `source` themselves (and the SFTP host); the runner's own lines add it here.
    const base = core.log.child({ component: 'sources', run: id });
    const log = base.child({ source: src.name });
    const deps: SourceDeps = {
      catalog: core.catalog,
      state: new KvState(core.store, 'sources'),
      dataDir: core.config.dataDir,
      log: base,
      signal,
      onProgress: opts.onProgress,
      profileModels: (p) => core.profiles.get(p)?.models,
      profileRelease: (p) => core.profiles.get(p)?.release,
      // The profile's hash (its file and template): the whole profile as JSON would store its template in every refusal.
      profileFingerprint: (p) => core.profiles.get(p)?.hash ?? '',
    };
    let outcome: SyncOutcome;
    let pruned: PruneResult[] = [];
    try {
      outcome = src.type === 'folder' ? await syncFolderSource(src, deps) : await syncSftpSource(src, deps);
      if (src.prune && outcome.listed && outcome.error === undefined && !signal.aborted)
        pruned = await pruneRemoved(core, `${src.type}:${src.name}`, outcome.listed);
      if (src.rollout) outcome = await this.startRollouts(src, outcome, log);
    } catch (e) {
      // A bug, not upstream trouble: still recorded, so the history never keeps a run 'running' forever.
      log.error({ err: e as Error }, 'source run crashed');
      outcome = { files: [], error: `${src.type} source "${src.name}": ${cleanMessage(e)}` };
    }
    const result = finishRun({ id, source: src.name, type: src.type, trigger: opts.trigger, startedAt }, outcome, pruned);
    try {
      this.record(id, result, pruned);
      if (opts.trigger !== 'schedule') this.audit(opts.who, result);
    } catch (e) {
      // The store closed under the run (a shutdown that did not wait): the run is still answered; its row stays
      // 'running' and is marked interrupted by the next run of the source.
      log.error({ err: e as Error }, 'source run not recorded');
    }
    log.info(
      {
        trigger: opts.trigger,
        ok: result.ok,
        added: result.added,
        unchanged: result.unchanged,
        skipped: result.skipped,
        failed: result.failed,
        unmapped: result.unmapped,
        pruned: pruned.length,
        bytes: result.downloadedBytes,
        error: result.error,
      },
      'source sync finished',
    );
    return result;
  }

  private record(id: number, result: SourceRunResult, pruned: PruneResult[]): void {
    this.core.store.sourceRuns.finish(
      id,
      {
        status: result.ok ? 'ok' : 'failed',
        finishedAt: result.finishedAt,
        durationMs: result.durationMs,
        added: result.added,
        unchanged: result.unchanged,
        skipped: result.skipped,
        failed: result.failed,
        unmapped: result.unmapped,
        pruned: pruned.filter((p) => p.status === 'retired').length,
        bytes: result.downloadedBytes,
        error: result.error ?? null,
      },
      // Unchanged files are counted, not listed: a mirror of thousands of files keeps its history small.
      { files: result.files.filter((f) => f.status !== 'unchanged'), pruned },
    );
  }

  /** Who ran which source, and what it added: the run's own row (its id) holds the rest. */
  private audit(who: string, r: SourceRunResult): void {
    const added = r.files.filter((f) => f.status === 'added').map((f) => f.artifactId);
    const { ok, unchanged, skipped, failed } = r;
    this.core.audit.record({
      who,
      action: 'source.sync',
      target: r.source,
      after: { run: r.id, ok, added, unchanged, skipped, failed, error: r.error ?? null },
    });
  }

  /** A source with `rollout` hands the artifacts this run added to the rollout engine the process connected. */
  private async startRollouts(src: SourceConfig, outcome: SyncOutcome, log: SourceCore['log']): Promise<SyncOutcome> {
    const added = outcome.files
      .filter((f) => f.status === 'added' && f.artifactId !== undefined)
      .map((f) => this.core.catalog.get(f.artifactId!))
      .filter((a): a is ArtifactRecord => a !== undefined);
    if (added.length === 0 || !src.rollout) return outcome;
    if (!this.hooks.onArtifactsAdded) {
      log.warn({ artifacts: added.map((a) => a.id) }, 'source has a rollout key, but this process has no rollout engine connected');
      return outcome;
    }
    try {
      await this.hooks.onArtifactsAdded({ name: src.name, rollout: src.rollout }, added);
      return outcome;
    } catch (e) {
      const error = `artifacts ${added.map((a) => a.id).join(', ')} were added, but their rollout did not start: ${(e as Error).message}`;
      return { ...outcome, error: outcome.error ? `${outcome.error}; ${error}` : error };
    }
  }
}

const runners = new WeakMap<SourceCore['store'], SourceRunner>();

/** The one runner of a core (keyed by its store); `hooks` given on a later call replace the earlier ones. */
export function sourceRunner(core: SourceCore, hooks?: SourceHooks): SourceRunner {
  let r = runners.get(core.store);
  if (!r) runners.set(core.store, (r = new SourceRunner(core, hooks)));
  else if (hooks) r.setHooks(hooks);
  return r;
}

/** Runs the sources one after another (they share the catalog; parallel runs gain little and race on it). */
export async function runSources(core: SourceCore, sources: readonly SourceConfig[], opts: SourceRunOptions): Promise<SourceRunResult[]> {
  const runner = sourceRunner(core);
  const out: SourceRunResult[] = [];
  for (const s of sources) out.push(await runner.run(s, opts));
  return out;
}

/** The history, newest first: every run of every source, or of one. */
export function sourceRuns(core: Pick<Core, 'store'>, o: { source?: string; limit?: number; before?: number } = {}): SourceRunRecord[] {
  return core.store.sourceRuns.list({ source: o.source, before: o.before, limit: o.limit ?? 50 });
}

/** A configured source as the API and `aps sync --list` show it: never its password or key file. */
export function describeSource(core: Pick<Core, 'store'>, s: SourceConfig): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...s };
  delete shown.password;
  delete shown.privateKeyFile;
  delete shown.hostKeySha256;
  return {
    ...shown,
    ...(s.type === 'sftp' ? { hostKeyPinned: s.hostKeySha256 !== undefined } : {}),
    lastRun: sourceRuns(core, { source: s.name, limit: 1 })[0] ?? null,
  };
}

/** The server's schedules: every source with a `schedule`, checked against the profiles first. */
export function startSources(core: SourceCore, hooks?: SourceHooks): SourceScheduler {
  assertSourceProfiles(core);
  const runner = sourceRunner(core, hooks);
  const scheduler = scheduleSources(
    core.config.sources,
    async (src, signal) => {
      try {
        return await runner.start(src, { trigger: 'schedule', signal }).done;
      } catch (e) {
        if (isApsError(e) && e.code === 'conflict') return null;
        throw e;
      }
    },
    core.log.child({ component: 'sources' }),
  );
  return {
    events: scheduler.events,
    scheduled: scheduler.scheduled,
    async stop(): Promise<void> {
      await scheduler.stop();
      await runner.stop();
    },
  };
}
