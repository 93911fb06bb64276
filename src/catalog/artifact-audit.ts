import type { AuditLog } from '../admin/audit.ts';
import type { AddOutcome } from './catalog.ts';

/** Records `artifact.add` for an artifact a command or route added (bytes already in the catalog add nothing). */
export function recordArtifactAdd(audit: AuditLog, who: string, outcome: AddOutcome): void {
  if (!outcome.existing) audit.record({ who, action: 'artifact.add', target: String(outcome.artifact.id), after: outcome.artifact });
}
