import type { Core } from '../core.ts';
import type { ArtifactRecord } from '../store/index.ts';
import { slotKey, type RetireResult, type TargetMove } from './catalog.ts';

/**
 * `aps artifact rm [--force]` and `DELETE /artifacts/:id[?force=1]`: removes the artifact (Catalog.retire
 * records an event per moved device) and logs each move, so the CLI and the API say and record the same;
 * the audit log gets `artifact.remove` by `who`, the moves in `after`.
 */
export async function retireArtifact(
  core: Pick<Core, 'catalog' | 'log' | 'audit'>,
  id: number,
  force: boolean,
  who: string,
): Promise<RetireResult> {
  const r = await core.catalog.retire(id, { force });
  core.audit.record({
    who,
    action: 'artifact.remove',
    target: String(r.artifact.id),
    before: r.artifact,
    after: r.moved.length ? { moved: r.moved } : null,
  });
  const log = core.log.child({ component: 'catalog' });
  for (const m of r.moved)
    log.info({ artifact: r.artifact.id, subject: m.subject, to: m.to }, `artifact removed with --force: ${describeMove(r.artifact, m)}`);
  if (r.moved.length === 0) log.info({ artifact: r.artifact.id }, 'artifact removed');
  return r;
}

/** "op1: firmware artifact 7 → 5" (or "→ nothing"). */
export function describeMove(a: ArtifactRecord, m: TargetMove): string {
  return `${m.subject}: ${slotKey(a.kind, a.role)} artifact ${m.from} → ${m.to === null ? 'nothing (no artifact left for it)' : m.to}`;
}
