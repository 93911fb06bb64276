// Lifting a password-guessing lock is an admin change (it lets an address or device try again at once):
// the one operation `aps access unlock` and DELETE /api/v1/access/locks/:subject share, audited.
import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';

/** Clears the failures (and lock) of a device id or client address, recorded as `access.unlock`; how many records were cleared. */
export function unlockAccess(core: Pick<Core, 'guard' | 'audit'>, subject: string, who: string): number {
  const before = core.guard.list().filter((l) => l.subject === subject);
  const cleared = core.guard.unlock(subject);
  if (cleared === 0) throw new ApsError('not_found', `no failed logins on record for ${subject}`);
  core.audit.record({ who, action: 'access.unlock', target: subject, before, after: { cleared } });
  return cleared;
}
