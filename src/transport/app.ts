import { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type Request, type Response, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Core } from '../core.ts';
import { isApsError } from '../errors.ts';
import { safePath } from '../log.ts';
import { adminApi } from './admin-api.ts';
import { verifyAdminToken } from './admin-auth.ts';
import { ConsoleSessions } from './console-session.ts';
import { consoleUi } from './console-ui.ts';
import { trustedProxies } from './trusted-proxies.ts';

// The server's own first path segments (below), which no adapter router may be mounted over.
const RESERVED = new Set(['healthz', 'metrics', 'api', 'ui']);

/**
 * What the HTTP(S) servers are made with: the request listener, and the request and response classes
 * (http.createServer's IncomingMessage / ServerResponse options) that are express's own from the start.
 */
export interface HttpApp {
  listener: RequestListener;
  classes: { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse };
}

/**
 * The HTTP(S) application. Device routes (adapter routers) carry no middleware beyond express's own:
 * they are the hot path. Body parsing, auth and JSON live only on the admin API.
 */
export function createApp(core: Core, metrics: Registry, routers: Map<string, Router>): HttpApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // the file responder sets strong ETags itself
  // Behind a proxy, the client's address is the one it puts in X-Forwarded-For (nginx overwrites it), and
  // the scheme its X-Forwarded-Proto; believed only from a configured proxy (http.trustedProxies, loopback
  // by default in front-proxy mode). Anyone else's headers are ignored: req.ip is the peer, req.secure the socket's.
  const proxies = trustedProxies(core.config.http);
  app.set('trust proxy', proxies ? (addr: string): boolean => proxies.contains(addr) : false);

  // Device routes first: they are nearly all the traffic, and each layer in front of them is a path match
  // every device request pays. So an adapter's name must not shadow the server's own paths.
  for (const [name, router] of routers) {
    if (RESERVED.has(name)) throw new Error(`adapter name "${name}" would shadow /${name}`);
    app.use(`/${name}`, router);
  }
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', generation: core.store.state.generation() });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  // The console's sessions come from admin tokens (named or configured): the check the Bearer header gets.
  const sessions = new ConsoleSessions((token) => verifyAdminToken(core, token), { allowHttp: core.config.console.allowHttp });
  app.use('/api/v1', adminApi(core, sessions));
  app.use('/ui', consoleUi(sessions));

  const notFound = (req: Request, res: Response): void => {
    res.status(404).type('text/plain').send('Not Found\n');
    core.log.debug({ path: safePath(req.originalUrl) }, 'no route');
  };
  app.use(notFound);
  // The one error answer. The admin API (an authenticated operator) gets the catalogue code and the
  // ApsError's message, which is written for the operator; a device route gets a 4xx's message as plain
  // text (a malformed URL says so) and a fixed body for a 5xx, never an internal message; an error that is not an ApsError is a bug: logged with its stack, answered "internal".
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const path = safePath(req.originalUrl);
    const admin = req.originalUrl.startsWith('/api/');
    let status: number;
    let code: string;
    let message: string;
    if (isApsError(err)) {
      status = err.status;
      code = err.code;
      message = err.code === 'internal' ? 'internal error' : err.message;
      if (status >= 500) core.log.error({ code, path, err: err.message }, 'request failed');
      else core.log.info({ code, path }, err.message);
    } else {
      // Express/multer client errors (bad JSON, too large) carry a safe message; anything else stays private.
      status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
      code = status === 500 ? 'internal' : 'bad_request';
      message = status === 500 ? 'internal error' : String(err.message);
      if (status === 500) core.log.error({ err, path }, 'request failed');
      else if (admin) core.log.warn({ status, path, reason: message }, 'bad request');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A device route's client error that is not ours to word (express cannot decode a percent-escape in a
    // path parameter, `/<adapter>/%zz`): the device path's fixed refusal and an event, never a message echoing input.
    if (!admin && !isApsError(err) && status < 500) {
      const adapter = /^\/([^/?]+)/.exec(req.originalUrl)?.[1];
      const info = { adapter: adapter !== undefined && routers.has(adapter) ? adapter : 'core', deviceId: null, file: 'request' };
      return core.files.deny(req, res, 400, `malformed request: ${message.slice(0, 120)}`, info);
    }
    if (admin) res.status(status).json({ error: code, message });
    else
      res
        .status(status)
        .type('text/plain')
        .send(status >= 500 ? 'Internal Server Error\n' : `${message || 'Bad Request'}\n`);
  };
  app.use(onError);
  // Requests and responses are born with express's prototypes (as app.handle would set them, per request:
  // two prototype changes of live objects, which V8 pays for in time and in its inline caches).
  const { request, response } = app as unknown as { request: object; response: object };
  class AppRequest extends IncomingMessage {}
  class AppResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {}
  Object.setPrototypeOf(AppRequest.prototype, request);
  Object.setPrototypeOf(AppResponse.prototype, response);
  // And the prototypes app.handle gives the requests that take the app's way (admin API, console,
  // /healthz, /metrics) are these same ones: setting a prototype an object already has changes nothing.
  Object.assign(app, { request: AppRequest.prototype, response: AppResponse.prototype });
  return {
    listener: deviceDispatch(app, routers, notFound, onError, AppRequest),
    classes: { IncomingMessage: AppRequest, ServerResponse: AppResponse },
  };
}

/**
 * The request listener: a device request (`/<adapter>/…`, the adapter's name as it is spelled) goes
 * straight to its adapter's router, as express's app would hand it over (express's req and res, the
 * mount's baseUrl and url), without the app's own router in front (a second router pass per request:
 * its stack walk, path match and closures). Anything else, or what the adapter's router leaves
 * (a 404, an error), takes the app's way and gets its answers. Adapters see no difference.
 */
function deviceDispatch(
  app: Express,
  routers: Map<string, Router>,
  notFound: (req: Request, res: Response) => void,
  onError: ErrorRequestHandler,
  AppRequest: typeof IncomingMessage,
): RequestListener {
  return (rawReq: IncomingMessage, rawRes: ServerResponse): void => {
    const url = rawReq.url ?? '';
    const slash = url.charCodeAt(0) === 47 ? url.indexOf('/', 1) : -1;
    const router = slash > 1 ? routers.get(url.slice(1, slash)) : undefined;
    // Made by a server without the app's classes (createApp's `classes`), they are not express's: the app's way.
    if (!router || !(rawReq instanceof AppRequest)) return void app(rawReq, rawRes);
    // What express's app.handle sets up, then what mounting the router at /<adapter> does.
    const req = rawReq as Request;
    const res = rawRes as Response;
    (req as { res: Response }).res = res;
    (res as { req: Request }).req = req;
    res.locals ??= Object.create(null);
    req.originalUrl = url;
    req.baseUrl = url.slice(0, slash);
    req.url = url.slice(slash);
    (router as unknown as { handle(req: Request, res: Response, done: (err?: unknown) => void): void }).handle(req, res, (err) => {
      req.url = url;
      req.baseUrl = '';
      try {
        if (err && err !== 'route' && err !== 'router') onError(err, req, res, () => undefined);
        else notFound(req, res);
      } catch {
        res.destroy(); // the error answer failed itself (a bug): the connection is all there is to close
      }
    });
  };
}
