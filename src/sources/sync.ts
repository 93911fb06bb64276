import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import { KvState } from '../kv-state.ts';
import { syncFolderSource } from './folder-source.ts';
import type { SourceRunResult } from './result.ts';
import { scheduleSources, type SourceScheduler } from './scheduler.ts';
import { syncSftpSource } from './sftp-source.ts';
import type { SourceConfig } from './source-config.ts';

/** The part of the core a source run uses. */
export type SourceCore = Pick<Core, 'config' | 'catalog' | 'profiles' | 'store' | 'log'>;

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
    if (!core.profiles.get(s.profile))
      throw new ApsError('invalid_config', `sources.${i}.profile: no profile "${s.profile}" (source "${s.name}")`);
  });
}

/** Runs one source now. Never throws for upstream trouble: the result carries the error. */
export async function runSource(core: SourceCore, src: SourceConfig, signal?: AbortSignal): Promise<SourceRunResult> {
  const log = core.log.child({ component: 'sources' });
  if (src.type === 'folder') return syncFolderSource(src, { catalog: core.catalog, log });
  return syncSftpSource(src, {
    catalog: core.catalog,
    state: new KvState(core.store, 'sources'),
    dataDir: core.config.dataDir,
    log,
    signal,
  });
}

/** Runs the sources one after another (they share the catalog; parallel runs gain little and race on it). */
export async function runSources(core: SourceCore, sources: readonly SourceConfig[]): Promise<SourceRunResult[]> {
  const out: SourceRunResult[] = [];
  for (const s of sources) out.push(await runSource(core, s));
  return out;
}

/** The server's schedules: every source with a `schedule`, checked against the profiles first. */
export function startSources(core: SourceCore): SourceScheduler {
  assertSourceProfiles(core);
  return scheduleSources(core.config.sources, (src, signal) => runSource(core, src, signal), core.log.child({ component: 'sources' }));
}
