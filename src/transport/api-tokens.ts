import express, { type Router } from 'express';
import { z } from 'zod';
import type { Core } from '../core.ts';
import { actor, requireFullScope } from './admin-auth.ts';
import { parseBody } from './api-input.ts';

const createBody = z.object({ name: z.string(), scope: z.enum(['read', 'full']).default('full') }).strict();

/**
 * /api/v1/tokens, for full tokens only (a read token may not even list them): GET lists (never a token),
 * POST {name, scope} answers the new token once, DELETE /:name revokes at once.
 */
export function tokensApi(core: Core): Router {
  const r = express.Router();
  r.use(requireFullScope);
  r.get('/', (_req, res) => {
    res.json(core.tokens.list());
  });
  r.post('/', (req, res) => {
    const b = parseBody(createBody, req.body);
    const { token, record } = core.tokens.create(b.name, b.scope, actor(res));
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json({ ...record, token });
  });
  r.delete('/:name', (req, res) => {
    res.json(core.tokens.revoke(String(req.params.name), actor(res)));
  });
  return r;
}
