// The admin API of the password-guessing guard (src/transport/access-guard.ts): what is locked or backing
// off, and clearing it. The same verbs as `aps access locks|unlock`.
import express, { type Router } from 'express';
import { unlockAccess } from '../admin/access-unlock.ts';
import type { Core } from '../core.ts';
import { actor } from './admin-auth.ts';

export function accessApi(core: Core): Router {
  const r = express.Router();
  /** Every device and address with failed logins on record, locked ones first. */
  r.get('/access/locks', (_req, res) => {
    res.json(core.guard.list());
  });
  /** Clears a device's or an address's failures (and lock), audited: 404 when none are on record. */
  r.delete('/access/locks/:subject', (req, res) => {
    const subject = String(req.params.subject);
    res.json({ subject, cleared: unlockAccess(core, subject, actor(res)) });
  });
  return r;
}
