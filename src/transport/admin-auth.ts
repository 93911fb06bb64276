import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AdminIdentity } from '../admin/tokens.ts';
import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import { ADMIN_GUARD_ADAPTER } from './console-session.ts';

export type { AdminIdentity };

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Who this admin request is, set by adminAuth (or by an authenticator mounted before it). */
      admin?: AdminIdentity;
    }
  }
}

// What a `read` token may do: look. HEAD is a GET without its body.
const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The identity a bearer token proves: the configured token (`config`, full) or a named one; undefined for
 * anything else. Every call reads the store, so a revoked token is refused at once.
 */
export function verifyAdminToken(core: Pick<Core, 'tokens'>, token: string): AdminIdentity | undefined {
  return core.tokens.verify(token);
}

/**
 * The admin API's door: `Authorization: Bearer <token>` → `res.locals.admin`, or 401 (RFC 6750 §3: the
 * challenge names scheme and realm; a token that was presented but is wrong is "invalid_token"). A request
 * an earlier authenticator already identified (the console's session) keeps that identity. A `read`
 * identity gets 403 on anything but GET/HEAD. Wrong tokens go through the access guard per client address:
 * past its limits the address gets 429 until the back-off or lock is over.
 */
export function adminAuth(core: Pick<Core, 'tokens' | 'guard'>): RequestHandler {
  return (req, res, next) => {
    if (!res.locals.admin) {
      const m = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
      let who: AdminIdentity | undefined;
      if (m) {
        // A wrong token counts against the client's address like a device's wrong password (console-session.ts).
        const attempt = core.guard.attempt({ adapter: ADMIN_GUARD_ADAPTER, deviceId: null, ip: req.ip });
        if (attempt.held) return next(new ApsError('too_many_requests', 'too many failed admin logins from this address: try again later'));
        who = verifyAdminToken(core, m[1]!.trim());
        attempt.done(who !== undefined, 'wrong admin token');
      }
      if (!who) {
        res.set('WWW-Authenticate', m ? 'Bearer realm="aps", error="invalid_token"' : 'Bearer realm="aps"');
        return next(new ApsError('unauthorized', 'missing or wrong bearer token'));
      }
      res.locals.admin = who;
    }
    if (res.locals.admin.scope !== 'full' && !READ_METHODS.has(req.method)) return refuse(res, next);
    next();
  };
}

/** For routes only a `full` token may even read (the token list). Mount after adminAuth. */
export function requireFullScope(_req: Request, res: Response, next: NextFunction): void {
  if (res.locals.admin?.scope !== 'full') return refuse(res, next);
  next();
}

function refuse(res: Response, next: NextFunction): void {
  res.set('WWW-Authenticate', 'Bearer realm="aps", error="insufficient_scope", scope="full"');
  next(new ApsError('forbidden', `token ${res.locals.admin?.name ?? ''} has read scope: this needs a full token`));
}

/** The identity adminAuth established for this request (a route behind it always has one). */
export function adminIdentity(res: Response): AdminIdentity {
  const who = res.locals.admin;
  if (!who) throw new ApsError('internal', 'admin route reached without an identity');
  return who;
}

/** The audit log's `who` for an admin API request: the token's name. */
export function actor(res: Response): string {
  return adminIdentity(res).name;
}
