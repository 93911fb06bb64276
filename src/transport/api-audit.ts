import express, { type Router } from 'express';
import { parseSince } from '../admin/audit.ts';
import type { Core } from '../core.ts';
import { intQuery } from './api-input.ts';

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** GET /api/v1/audit?since=&who=&action=&target=&before=&limit=: the admin changes, newest first. */
export function auditApi(core: Core): Router {
  const r = express.Router();
  r.get('/', (req, res) => {
    const q = req.query;
    const since = text(q.since);
    res.json(
      core.audit.list({
        since: since === undefined ? undefined : parseSince(since),
        who: text(q.who),
        action: text(q.action),
        target: text(q.target),
        beforeId: intQuery(q.before, 'before'),
        limit: Math.min(intQuery(q.limit, 'limit') ?? 100, 1000),
      }),
    );
  });
  return r;
}
