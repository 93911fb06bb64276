import { Server as NetServer, type Socket } from 'node:net';
import type { Server, ServerResponse } from 'node:http';

/** A connection idle this long after its last answer is not in a session: closed while draining. */
const SESSION_GAP_MS = 1_000;
const TICK_MS = 100;

export interface Drainer {
  /**
   * Stops accepting connections and waits until every open connection has finished its requests and been
   * idle for a second (a management session sends its next request at once, on the same connection), at most
   * `graceMs`; then cuts what is left. Answers marked endOnDrain (event streams) are ended at once. Resolves with how many connections were cut.
   */
  drain(graceMs: number): Promise<number>;
}

interface Tracked {
  /** The answers in progress on this connection. */
  active: Set<ServerResponse>;
  idleSince: number;
}

/** Answers that never end by themselves (server-sent events): a drain ends them at once instead of waiting out the grace. */
const streams = new WeakSet<ServerResponse>();

/** Marks a long-lived answer (an event stream) to be ended when the server starts draining. */
export function endOnDrain(res: ServerResponse): void {
  streams.add(res);
}

/** Tracks each connection's requests in flight, so a shutdown can wait for them and no longer. */
export function trackConnections(server: Server): Drainer {
  const sockets = new Map<Socket, Tracked>();
  server.on('request', (req, res) => {
    const socket = req.socket;
    let t = sockets.get(socket);
    if (!t) {
      t = { active: new Set(), idleSince: Date.now() };
      sockets.set(socket, t);
      socket.once('close', () => sockets.delete(socket));
    }
    const tracked = t;
    tracked.active.add(res);
    res.once('close', () => {
      tracked.active.delete(res);
      tracked.idleSince = Date.now();
    });
  });
  return {
    async drain(graceMs: number): Promise<number> {
      // net.Server's close: http.Server's own (Node >= 19) also closes idle keep-alive connections at
      // once, which would cut a management session between two of its requests.
      const closed = new Promise<void>((r) => NetServer.prototype.close.call(server, () => r()));
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline) {
        const now = Date.now();
        for (const [socket, t] of sockets) {
          // A stream started after the drain began (on a kept-alive connection) is ended at the next tick.
          for (const res of t.active) if (streams.has(res) && !res.writableEnded) res.end();
          if (t.active.size === 0 && now - t.idleSince >= SESSION_GAP_MS) socket.destroy();
        }
        if (sockets.size === 0) break;
        await new Promise((r) => setTimeout(r, Math.min(TICK_MS, Math.max(1, deadline - now))));
      }
      const cut = [...sockets.values()].filter((t) => t.active.size > 0).length;
      server.closeAllConnections();
      for (const socket of sockets.keys()) socket.destroy();
      // A connection still in its TLS handshake is not an HTTP one closeAllConnections knows: bound the wait.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000).unref())]);
      return cut;
    },
  };
}
