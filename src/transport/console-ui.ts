import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import express, { type Response, type Router } from 'express';
import { PACKAGE_ROOT } from '../config.ts';
import { consoleTransportAllowed, PLAIN_HTTP_REFUSAL, type ConsoleSessions } from './console-session.ts';

/** Where `npm run build` (vite, console/vite.config.ts) writes the console. */
export const CONSOLE_DIR = join(PACKAGE_ROOT, 'dist', 'console');

// Scripts and styles only from /ui itself (no inline script, nothing from elsewhere); Chart.js sizes its
// canvas through style attributes, hence 'unsafe-inline' for styles only.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// Referrer-Policy same-origin rather than no-referrer: under no-referrer a browser sends `Origin: null` with the
// login form's POST, which the login's forgery check cannot tell from another site's sandboxed form.
function headers(res: Response): void {
  res.set({
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  });
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The login page, rendered here so it needs no script at all: a form posting the token to
 * `POST /api/v1/session`, which answers with the cookie and a redirect to /ui/ (or this page with the error).
 */
export function loginPage(error?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>APS console: log in</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f4f5f7;color:#111}
main{background:#fff;padding:2rem;border:1px solid #c4c8cf;border-radius:6px;width:min(24rem,90vw)}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;font-weight:600;margin-bottom:.3rem}
input{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:1px solid #5a6270;border-radius:4px}
button{margin-top:1rem;font:inherit;padding:.5rem 1.2rem;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}
:focus-visible{outline:3px solid #e37400;outline-offset:2px}.error{color:#a50e0e;font-weight:600}
</style></head>
<body><main>
<h1>APS console</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/api/v1/session">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
<p><small>The token is in the data folder's <code>admin.token</code> or the <code>APS_ADMIN_TOKEN</code> setting.</small></p>
</main></body></html>
`;
}

/**
 * `/ui`, over HTTPS, to this host, or anywhere with `console.allowHttp` (else 403): the login page for everyone; everything else (the app and its assets) only with a live session,
 * else a redirect to the login page. Hashed assets are cached for a year, index.html never, and any other
 * path is the app's own route (SPA fallback).
 */
export function consoleUi(sessions: ConsoleSessions, dir = CONSOLE_DIR): Router {
  const r = express.Router();
  r.use((req, res, next) => {
    headers(res);
    // Not even the login page over plain HTTP from elsewhere: the token typed into it would travel in clear.
    if (!consoleTransportAllowed(req, sessions.allowHttp))
      return void res.status(403).set('Cache-Control', 'no-store').type('text/plain').send(`Forbidden: ${PLAIN_HTTP_REFUSAL}.\n`);
    next();
  });
  r.get('/login', (req, res) => {
    if (sessions.fromRequest(req, false)) return res.redirect(303, '/ui/');
    res.set('Cache-Control', 'no-store').type('html').send(loginPage());
  });
  r.use((req, res, next) => {
    if (sessions.fromRequest(req)) return next();
    res.set('Cache-Control', 'no-store').redirect(303, '/ui/login');
  });
  // Hashed assets: the gzip copy the build wrote beside each file, to a browser that accepts it.
  const longCache = { maxAge: '365d', immutable: true } as const;
  r.get('/assets/:file', (req, res, next) => {
    const file = String(req.params.file);
    const gz = join(dir, 'assets', `${file}.gz`);
    if (!/^[\w.-]+$/.test(file) || !req.acceptsEncodings('gzip') || !existsSync(gz)) return next();
    res.set({ 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' }).type(extname(file));
    res.sendFile(gz, longCache);
  });
  r.use('/assets', express.static(join(dir, 'assets'), { ...longCache, index: false, fallthrough: false }));
  r.use(express.static(dir, { index: false, maxAge: 0 }));
  r.get('/{*path}', (_req, res) => {
    const index = join(dir, 'index.html');
    if (!existsSync(index)) return void res.status(503).type('text/plain').send('The console is not built: run npm run build.\n');
    res.set('Cache-Control', 'no-cache').sendFile(index);
  });
  return r;
}
