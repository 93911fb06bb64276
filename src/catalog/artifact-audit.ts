import type { AuditLog } from '../admin/audit.ts';
import type { AddArtifactInput, AddOutcome, ArtifactSource, Catalog } from './catalog.ts';

/** Records `artifact.add` for an artifact an admin added (bytes already in the catalog add nothing). */
export function recordArtifactAdd(audit: AuditLog, who: string, outcome: AddOutcome): void {
  if (!outcome.existing) audit.record({ who, action: 'artifact.add', target: String(outcome.artifact.id), after: outcome.artifact });
}

/**
 * An admin's artifact add (`aps artifact add`, an adapter command, POST /artifacts, `aps apply`): Catalog.add,
 * audited once here by `who`. Sources and device backups add through the catalog itself: no admin typed them.
 */
export async function addArtifact(
  core: { catalog: Catalog; audit: AuditLog },
  source: ArtifactSource,
  input: AddArtifactInput,
  who: string,
): Promise<AddOutcome> {
  const outcome = await core.catalog.add(source, input);
  recordArtifactAdd(core.audit, who, outcome);
  return outcome;
}
