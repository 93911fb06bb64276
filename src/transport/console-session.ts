import { randomBytes } from 'node:crypto';
import { parse as parseCookie } from 'cookie';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ApsError } from '../errors.ts';
import type { AccessGuard } from './access-guard.ts';
import { isLoopback } from './networks.ts';

import type { AdminIdentity } from '../admin/tokens.ts';

export type { AdminIdentity };

/** Checks an admin token; undefined when it is not one. */
export type VerifyToken = (token: string) => AdminIdentity | undefined;

export const SESSION_COOKIE = 'aps_session';
/**
 * Cookie-authenticated requests that change something must carry this header. A cross-site form or image
 * cannot set a custom header, and a cross-origin script that tries needs a CORS preflight we never grant:
 * with SameSite=Strict it is the second fence against request forgery.
 */
export const CSRF_HEADER = 'x-aps-console';

interface Session {
  /**
   * The token the session was made from, kept in this process's memory only (never logged or sent): each
   * use checks it again, so revoking the token (or changing its scope) ends or narrows its sessions at once.
   */
  token: string;
  /** The token's name when the session was made: the per-token cap counts by it. */
  name: string;
  expires: number;
  absolute: number;
}

export interface SessionOptions {
  /** A session unused this long ends (default 1 hour). */
  idleMs?: number;
  /** A session ends this long after login whatever its use (default 12 hours). */
  maxMs?: number;
  /**
   * At most this many live sessions per token; its oldest goes first (default 20). Per token, so logging in
   * again and again with one token never ends another token's sessions.
   */
  maxPerToken?: number;
  /** Whether the console and log-in are served over plain HTTP to a client that is not this host (`console.allowHttp`). */
  allowHttp?: boolean;
  now?: () => number;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Console sessions: an admin token exchanged once for a random 256-bit session id in an HttpOnly,
 * SameSite=Strict cookie (Secure over HTTPS). The ids live in this process's memory only, so a restart
 * logs everyone out; nothing guessable or derived from the token ever reaches the browser.
 */
export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly idleMs: number;
  private readonly maxMs: number;
  private readonly maxPerToken: number;
  private readonly now: () => number;
  readonly verify: VerifyToken;
  readonly allowHttp: boolean;

  constructor(verify: VerifyToken, o: SessionOptions = {}) {
    this.verify = verify;
    this.idleMs = o.idleMs ?? 3_600_000;
    this.maxMs = o.maxMs ?? 12 * 3_600_000;
    this.maxPerToken = o.maxPerToken ?? 20;
    this.allowHttp = o.allowHttp ?? false;
    this.now = o.now ?? Date.now;
  }

  /** A new session for a token verify() accepted: its id (the cookie value) and when it ends unless used. */
  create(token: string, name: string): { id: string; expiresAt: string } {
    const now = this.now();
    const same: string[] = [];
    for (const [id, s] of this.sessions) {
      if (this.ended(s, now)) this.sessions.delete(id);
      else if (s.name === name) same.push(id);
    }
    // Map keeps insertion order: the first of this token's ids is its oldest session.
    while (same.length >= this.maxPerToken) this.sessions.delete(same.shift()!);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { token, name, expires: now + this.idleMs, absolute: now + this.maxMs });
    return { id, expiresAt: new Date(now + Math.min(this.idleMs, this.maxMs)).toISOString() };
  }

  /** The live session a request's cookie names, touched (its idle time starts again); undefined otherwise. */
  fromRequest(req: Request, touch = true): (AdminIdentity & { id: string; expiresAt: string }) | undefined {
    const id = sessionId(req);
    const s = id === undefined ? undefined : this.sessions.get(id);
    if (!id || !s) return undefined;
    const now = this.now();
    if (this.ended(s, now)) {
      this.sessions.delete(id);
      return undefined;
    }
    const who = this.verify(s.token);
    if (!who) {
      this.sessions.delete(id);
      return undefined;
    }
    if (touch) s.expires = Math.min(now + this.idleMs, s.absolute);
    return { id, name: who.name, scope: who.scope, expiresAt: new Date(Math.min(s.expires, s.absolute)).toISOString() };
  }

  /**
   * Who a live session is, its token verified again (for long-lived answers such as the event stream): undefined
   * once it ended or its token was revoked. Never touches it.
   */
  identity(id: string): AdminIdentity | undefined {
    const s = this.sessions.get(id);
    if (s === undefined || this.ended(s, this.now())) return undefined;
    const who = this.verify(s.token);
    if (!who) this.sessions.delete(id);
    return who;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  private ended(s: Session, now: number): boolean {
    return now >= s.expires || now >= s.absolute;
  }
}

/**
 * The host of an Origin header ('null' and garbage: undefined). Only the host is compared with ours: behind a
 * proxy that ends TLS the browser's scheme is https while this server sees http.
 */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Whether a request may carry the console (its pages, a log-in, a session cookie): over HTTPS (or TLS a trusted
 * front proxy ended), from this host itself, or anywhere when `console.allowHttp` says so. Elsewhere an admin
 * token typed into a plain-HTTP page crosses the network in clear.
 */
export function consoleTransportAllowed(req: Request, allowHttp: boolean): boolean {
  return allowHttp || req.secure || isLoopback(req.ip);
}

export const PLAIN_HTTP_REFUSAL =
  'the console is served over HTTPS only (or to this host itself): open it at its https:// address, or set console.allowHttp: true';

/**
 * Failed admin logins (a wrong Bearer token, a wrong token on the log-in form) go through the device paths'
 * password-guessing guard, counted per client address: past a few, each try waits a back-off, then the
 * address is locked for a while (`aps access unlock ADDRESS` lifts it).
 */
export type AdminLoginGuard = Pick<AccessGuard, 'attempt'>;
export const ADMIN_GUARD_ADAPTER = 'admin';

function sessionId(req: Request): string | undefined {
  const header = req.headers.cookie;
  return header ? parseCookie(header)[SESSION_COOKIE] : undefined;
}

function setCookie(res: Response, req: Request, value: string, maxAgeMs?: number): void {
  res.cookie(SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.secure,
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  });
}

/** RFC 6750 §3: a 401 names the scheme and realm; a token that was presented but is wrong is "invalid_token". */
function refuse(res: Response, presented: boolean): ApsError {
  res.set('WWW-Authenticate', presented ? 'Bearer realm="aps", error="invalid_token"' : 'Bearer realm="aps"');
  return new ApsError('unauthorized', 'missing or wrong bearer token');
}

/**
 * The console's half of the admin API's door, mounted before adminAuth: a request without an
 * Authorization header but with a live session cookie is that session's identity (res.locals.admin, and
 * res.locals.sessionId); adminAuth (admin-auth.ts) then keeps it and applies its scope. A cookie alone never
 * authorises a change without the console's CSRF header and, when the browser sends Origin, our own host.
 * Anything else passes on untouched, for adminAuth's Bearer check to accept or refuse.
 */
export function sessionAuth(sessions: ConsoleSessions): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (req.get('authorization') !== undefined) return next();
    // A cookie on plain HTTP from elsewhere is not believed (a session made over HTTPS has a Secure cookie anyway).
    if (!consoleTransportAllowed(req, sessions.allowHttp)) return next();
    const s = sessions.fromRequest(req);
    if (!s) return next();
    if (!SAFE_METHODS.has(req.method)) {
      const origin = req.get('origin');
      if (req.get(CSRF_HEADER) !== '1' || (origin !== undefined && hostOf(origin) !== req.get('host')))
        return next(new ApsError('forbidden', `a console request that changes something needs the ${CSRF_HEADER} header`));
    }
    res.locals.admin = { name: s.name, scope: s.scope };
    res.locals.sessionId = s.id;
    next();
  };
}

/**
 * `POST /session` (log in: a JSON body {token}, or the login page's form, answered with a redirect),
 * `GET /session` (who, until when) and `DELETE /session` (log out). Mounted before sessionAuth.
 */
export function sessionRoutes(sessions: ConsoleSessions, loginPage: (error?: string) => string, guard: AdminLoginGuard): Router {
  const r = express.Router();
  const small = { limit: '4kb' };
  r.post('/session', express.json(small), express.urlencoded({ extended: false, ...small }), (req, res) => {
    const form = typeof req.is('application/x-www-form-urlencoded') === 'string';
    const page = (status: number, error: string): void =>
      void res.status(status).type('html').set('Cache-Control', 'no-store').send(loginPage(error));
    if (!consoleTransportAllowed(req, sessions.allowHttp)) {
      if (form) return page(403, PLAIN_HTTP_REFUSAL);
      throw new ApsError('forbidden', PLAIN_HTTP_REFUSAL);
    }
    // Login forgery: another site's form posting its own token would log this browser in as that token.
    const origin = req.get('origin');
    if (origin !== undefined && hostOf(origin) !== req.get('host'))
      throw new ApsError('forbidden', 'a log-in must come from the console itself');
    const sent = (req.body as { token?: unknown } | undefined)?.token;
    const token = typeof sent === 'string' ? sent.trim() : '';
    const attempt = guard.attempt({ adapter: ADMIN_GUARD_ADAPTER, deviceId: null, ip: req.ip });
    if (attempt.held) {
      const message = 'too many failed log-ins from this address: try again later';
      if (form) return page(429, message);
      throw new ApsError('too_many_requests', message);
    }
    const who = token !== '' ? sessions.verify(token) : undefined;
    attempt.done(token === '' ? null : who !== undefined, 'wrong admin token (console log-in)');
    if (!who) {
      if (form) return page(401, 'That is not an admin token.');
      throw refuse(res, true);
    }
    const { id, expiresAt } = sessions.create(token, who.name);
    setCookie(res, req, id);
    if (form) return void res.redirect(303, '/ui/');
    res.json({ name: who.name, scope: who.scope, expiresAt });
  });
  r.get('/session', (req, res) => {
    const s = sessions.fromRequest(req);
    if (!s) throw refuse(res, false);
    res.set('Cache-Control', 'no-store').json({ name: s.name, scope: s.scope, expiresAt: s.expiresAt });
  });
  r.delete('/session', (req, res, next) => {
    const s = sessions.fromRequest(req, false);
    if (s && req.get(CSRF_HEADER) !== '1') return next(new ApsError('forbidden', `logging out needs the ${CSRF_HEADER} header`));
    if (s) sessions.destroy(s.id);
    setCookie(res, req, '', 0);
    res.status(204).end();
  });
  return r;
}
