import express, { type Router } from 'express';
import type { Core } from '../core.ts';
import type { NewEvent } from '../store/index.ts';
import type { ConsoleSessions } from './console-session.ts';

const HEARTBEAT_MS = 15_000;
/** A client this far behind (unread bytes) is cut off rather than buffered without end; it reconnects. */
const MAX_BUFFERED = 1024 * 1024;

/**
 * `GET /events/stream`: every event the sink records, as server-sent events (`event: device`, the JSON of the
 * event), optionally only one `device` or `adapter`. A comment every 15 s keeps proxies from closing it; a
 * console session that ended (logout, expiry) ends the stream at the next beat.
 */
export function eventStreamApi(core: Core, sessions: ConsoleSessions): Router {
  const r = express.Router();
  r.get('/events/stream', (req, res) => {
    const device = typeof req.query.device === 'string' && req.query.device !== '' ? req.query.device : undefined;
    const adapter = typeof req.query.adapter === 'string' && req.query.adapter !== '' ? req.query.adapter : undefined;
    const sessionId = res.locals.sessionId as string | undefined;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // HEAD asks for the headers only: a stream kept open for it would never end.
    if (req.method === 'HEAD') return void res.end();
    res.write('retry: 3000\n\n');
    const send = (e: NewEvent): void => {
      if ((device && e.deviceId !== device) || (adapter && e.adapter !== adapter)) return;
      if (res.writableLength > MAX_BUFFERED) return void res.end();
      res.write(`event: device\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const off = core.events.onEvent(send);
    const beat = setInterval(() => {
      if (sessionId !== undefined && !sessions.alive(sessionId)) return void res.end();
      res.write(': beat\n\n');
    }, HEARTBEAT_MS);
    beat.unref();
    res.on('close', () => {
      off();
      clearInterval(beat);
    });
  });
  return r;
}
