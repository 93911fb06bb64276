import type { Core } from '../core.ts';
import type { ArtifactRecord } from '../store/index.ts';
import { slotKey, type RetireResult, type TargetMove } from './catalog.ts';

/**
 * `aps artifact rm [--force]` and `DELETE /artifacts/:id[?force=1]`: removes the artifact (Catalog.retire
 * records an event per moved device) and logs each move, so the CLI and the API say and record the same.
 */
export async function retireArtifact(core: Pick<Core, 'catalog' | 'log'>, id: number, force: boolean): Promise<RetireResult> {
  const r = await core.catalog.retire(id, { force });
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
