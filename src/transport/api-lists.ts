import express, { type Request, type Router } from 'express';
import type { Core } from '../core.ts';
import { listDevices } from '../devices/device-list.ts';
import { listEvents } from '../events/event-list.ts';

function str(req: Request, name: string): string | undefined {
  const v = req.query[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `GET /devices` and `GET /events`: pages of `{ items, next }`, `limit` (default 100, max 1000) and the `after` cursor. */
export function listApi(core: Core): Router {
  const r = express.Router();
  r.get('/devices', (req, res) => {
    res.json(
      listDevices(core, {
        adapter: str(req, 'adapter'),
        profile: str(req, 'profile'),
        group: str(req, 'group'),
        version: str(req, 'version'),
        status: str(req, 'status'),
        q: str(req, 'q'),
        after: str(req, 'after'),
        limit: str(req, 'limit'),
      }),
    );
  });
  r.get('/events', (req, res) => {
    res.json(
      listEvents(core, {
        device: str(req, 'device'),
        adapter: str(req, 'adapter'),
        after: str(req, 'after'),
        since: str(req, 'since'),
        limit: str(req, 'limit'),
      }),
    );
  });
  return r;
}
