// The admin API of the password-guessing guard (src/transport/access-guard.ts): what is locked or backing
// off, and clearing it. The same verbs as `aps access locks|unlock`.
import express, { type Router } from 'express';
import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';

export function accessApi(core: Core): Router {
  const r = express.Router();
  /** Every device and address with failed logins on record, locked ones first. */
  r.get('/access/locks', (_req, res) => {
    res.json(core.guard.list());
  });
  /** Clears a device's or an address's failures (and lock): 404 when none are on record. */
  r.delete('/access/locks/:subject', (req, res) => {
    const subject = String(req.params.subject);
    const cleared = core.guard.unlock(subject);
    if (cleared === 0) throw new ApsError('not_found', `no failed logins on record for ${subject}`);
    res.json({ subject, cleared });
  });
  return r;
}
