import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import { actor } from './admin-auth.ts';
import {
  abortRollout,
  listRollouts,
  pauseRollout,
  promoteRollout,
  resumeRollout,
  rolloutStatus,
  startRollout,
} from '../rollouts/rollouts.ts';

const startBody = z
  .object({
    artifactId: z.number().int().positive(),
    groups: z.array(z.string().min(1)).optional(),
    stages: z.union([z.string(), z.array(z.number())]).optional(),
    maxFailures: z.union([z.string(), z.number()]).optional(),
    timeout: z.union([z.string(), z.number()]).optional(),
    autoPromote: z.boolean().optional(),
  })
  .strict();

function rolloutId(req: Request): number {
  const id = String(req.params.id);
  if (!/^\d{1,15}$/.test(id)) throw new ApsError('bad_request', `rollout id must be a number, not "${id}"`);
  return Number(id);
}

/** /api/v1/rollouts: the same verbs as `aps rollout` (list, start, status, promote, pause, resume, abort). */
export function rolloutsApi(core: Core): Router {
  const r = express.Router();
  r.get('/', (_req, res) => {
    res.json(listRollouts(core));
  });
  r.post('/', (req, res) => {
    const parsed = startBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new ApsError('bad_request', `${i.path.join('.') || 'body'}: ${i.message}`);
    }
    res.status(201).json(startRollout(core, parsed.data, actor(res)));
  });
  r.get('/:id', (req, res) => {
    // Only reads (a read token may call it): judging, promoting and completing are the server's ticker's,
    // which evaluates soon after each event of a device a rollout waits for.
    res.json(rolloutStatus(core, rolloutId(req)));
  });
  const verbs = { promote: promoteRollout, pause: pauseRollout, resume: resumeRollout, abort: abortRollout } as const;
  for (const [verb, fn] of Object.entries(verbs)) {
    r.post(`/:id/${verb}`, (req, res) => {
      res.json(fn(core, rolloutId(req), actor(res)));
    });
  }
  return r;
}
