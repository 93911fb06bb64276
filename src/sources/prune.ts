import { retireArtifact } from '../catalog/retire.ts';
import type { Core } from '../core.ts';
import { isApsError } from '../errors.ts';
import type { PruneResult } from './result.ts';

/**
 * `prune: true`: retires the artifacts a source added (its `origin`) whose file is no longer in the upstream
 * listing, through the same path as `aps artifact rm` without --force, so an artifact that is still some
 * device's or group's target is kept, with the reason.
 */
export async function pruneRemoved(
  core: Pick<Core, 'catalog' | 'log' | 'audit'>,
  origin: string,
  listed: readonly string[],
): Promise<PruneResult[]> {
  const upstream = new Set(listed);
  const out: PruneResult[] = [];
  for (const a of core.catalog.list()) {
    if (a.origin !== origin || upstream.has(a.filename)) continue;
    const base = { artifactId: a.id, file: a.filename, profile: a.profile, version: a.version };
    try {
      // Recorded in the audit log under the source's name: an upstream removal is an admin change nobody typed.
      await retireArtifact(core, a.id, false, `source:${origin}`);
      out.push({ ...base, status: 'retired' });
    } catch (e) {
      if (!isApsError(e)) throw e;
      // "artifact 7 is the current firmware target of op1, op2; pin those devices…": the first clause says it.
      out.push({ ...base, status: 'kept', reason: e.message.split(';')[0]! });
    }
  }
  return out;
}
