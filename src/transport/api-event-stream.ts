import express, { type Request, type Router } from 'express';
import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import type { NewEvent } from '../store/index.ts';
import { actor } from './admin-auth.ts';
import type { ConsoleSessions } from './console-session.ts';
import { endOnDrain } from './drain.ts';

const HEARTBEAT_MS = 15_000;
/** A client this far behind (unread bytes) is cut off rather than buffered without end; it reconnects. */
const MAX_BUFFERED = 1024 * 1024;
/**
 * Between two events the token behind a stream is checked again at most this often: a token revoked by this
 * process ends its streams before the next event (AdminTokens.revocations), one revoked by another process
 * (`aps token revoke`) within this long.
 */
const RECHECK_MS = 1_000;
/** Open streams: each holds a socket and a listener on every event. Per identity, so one token cannot take them all. */
export const MAX_STREAMS = 100;
export const MAX_STREAMS_PER_IDENTITY = 10;

/**
 * Whether the caller of a long-lived answer may still see it: the console session (ended by logout, expiry
 * or its token's revocation) or the Bearer token, verified again.
 */
function stillAllowed(core: Core, sessions: ConsoleSessions, req: Request, sessionId: string | undefined, name: string): () => boolean {
  if (sessionId !== undefined) return () => sessions.identity(sessionId)?.name === name;
  const token = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1]?.trim() ?? '';
  return () => core.tokens.verify(token)?.name === name;
}

/**
 * `GET /events/stream`: every event the sink records, as server-sent events (`event: device`, the JSON of the
 * event), optionally only one `device` or `adapter`. A comment every 15 s keeps proxies from closing it. The
 * caller's token or session is checked again at each beat and before an event (at most once a second, and at
 * once after a revocation in this process): a revoked token or an ended session ends the stream. A server
 * shutting down ends every stream (drain.ts), so an open console does not hold it for the whole grace.
 */
export function eventStreamApi(core: Core, sessions: ConsoleSessions): Router {
  const r = express.Router();
  const open = new Map<string, number>();
  r.get('/events/stream', (req, res) => {
    const device = typeof req.query.device === 'string' && req.query.device !== '' ? req.query.device : undefined;
    const adapter = typeof req.query.adapter === 'string' && req.query.adapter !== '' ? req.query.adapter : undefined;
    const sessionId = res.locals.sessionId as string | undefined;
    const name = actor(res);
    const mine = open.get(name) ?? 0;
    const total = [...open.values()].reduce((a, b) => a + b, 0);
    if (req.method !== 'HEAD' && (mine >= MAX_STREAMS_PER_IDENTITY || total >= MAX_STREAMS))
      throw new ApsError(
        'too_many_requests',
        `too many open event streams (${mine >= MAX_STREAMS_PER_IDENTITY ? `${name} holds ${mine}` : `${total} in all`})`,
      );
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // HEAD asks for the headers only: a stream kept open for it would never end.
    if (req.method === 'HEAD') return void res.end();
    open.set(name, mine + 1);
    endOnDrain(res);
    res.write('retry: 3000\n\n');
    const allowed = stillAllowed(core, sessions, req, sessionId, name);
    let checkedAt = Date.now();
    let revocations = core.tokens.revocations;
    const check = (force: boolean): boolean => {
      const now = Date.now();
      if (!force && now - checkedAt < RECHECK_MS && revocations === core.tokens.revocations) return true;
      checkedAt = now;
      revocations = core.tokens.revocations;
      if (allowed()) return true;
      res.end();
      return false;
    };
    const send = (e: NewEvent): void => {
      if ((device && e.deviceId !== device) || (adapter && e.adapter !== adapter)) return;
      if (res.writableEnded || !check(false)) return;
      if (res.writableLength > MAX_BUFFERED) return void res.end();
      res.write(`event: device\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const off = core.events.onEvent(send);
    const beat = setInterval(() => {
      if (check(true)) res.write(': beat\n\n');
    }, HEARTBEAT_MS);
    beat.unref();
    res.on('close', () => {
      off();
      clearInterval(beat);
      const n = (open.get(name) ?? 1) - 1;
      if (n > 0) open.set(name, n);
      else open.delete(name);
    });
  });
  return r;
}
