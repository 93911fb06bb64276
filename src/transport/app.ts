import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Core } from '../core.ts';
import { isApsError } from '../errors.ts';
import { safePath } from '../log.ts';
import { adminApi } from './admin-api.ts';

/**
 * The HTTP(S) application. Device routes (adapter routers) carry no middleware beyond express's own:
 * they are the hot path. Body parsing, auth and JSON live only on the admin API.
 */
export function createApp(core: Core, adminToken: string, metrics: Registry, routers: Map<string, Router>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // the file responder sets strong ETags itself
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', generation: core.store.state.generation() });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  app.use('/api/v1', adminApi(core, adminToken));
  for (const [name, router] of routers) app.use(`/${name}`, router);

  app.use((req, res) => {
    res.status(404).type('text/plain').send('Not Found\n');
    core.log.debug({ path: safePath(req.originalUrl) }, 'no route');
  });
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    if (isApsError(err)) {
      if (err.status >= 500) core.log.error({ err, path: safePath(req.originalUrl) }, err.message);
      else core.log.info({ code: err.code, path: safePath(req.originalUrl) }, err.message);
      if (!res.headersSent) res.status(err.status).json({ error: err.code, message: err.message });
      return;
    }
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) core.log.error({ err, path: safePath(req.originalUrl) }, 'request failed');
    else core.log.warn({ status, path: safePath(req.originalUrl), reason: String(err.message) }, 'bad request');
    // Express/multer client errors (bad JSON, too large) carry a safe message; anything else stays private.
    if (!res.headersSent)
      res
        .status(status)
        .json({ error: status === 500 ? 'internal' : 'bad_request', message: status === 500 ? 'internal error' : String(err.message) });
    else res.destroy();
  };
  app.use(onError);
  return app;
}
