import type { AuditLog } from '../admin/audit.ts';
import type { Rollout } from './rollouts.ts';

export type RolloutVerb = 'start' | 'promote' | 'pause' | 'resume' | 'abort';

/** An admin's rollout command in the audit log (`rollout.start`, `rollout.abort`…): the rollout as it is after. */
export function recordRolloutChange(audit: AuditLog, who: string, verb: RolloutVerb, r: Rollout): void {
  const { id, artifactId, profile, slot, groups, stages, stage, state, maxFailures, timeoutSeconds, autoPromote, counts } = r;
  audit.record({
    who,
    action: `rollout.${verb}`,
    target: String(id),
    after: { artifactId, profile, slot, groups, stages, stage, state, maxFailures, timeoutSeconds, autoPromote, counts },
  });
}
