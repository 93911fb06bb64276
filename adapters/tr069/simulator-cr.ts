// The CPE's Connection Request server for the simulator (TR-069 §3.2.2): an HTTP GET on a URL the CPE
// announced in its Inform, answered only after HTTP Digest with ConnectionRequestUsername/Password;
// on success the CPE opens a session with "6 CONNECTION REQUEST". Loopback by default.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { digestChallenge, verifyDigest } from '../../src/adapter-api.ts';

export interface ConnectionRequestServer {
  url: string;
  close(): Promise<void>;
}

export async function startConnectionRequestServer(o: {
  username: string;
  password: string;
  host?: string;
  onRequest: () => void;
}): Promise<ConnectionRequestServer> {
  const key = randomBytes(32);
  const realm = 'CPE connection request';
  const path = `/cr/${randomBytes(8).toString('hex')}`;
  const server: Server = createServer((req, res) => {
    const r = verifyDigest({
      header: req.headers.authorization,
      method: req.method ?? 'GET',
      realm,
      secretKey: key,
      now: Date.now(),
      uri: req.url,
      lookupPassword: (u) => (u === o.username ? o.password : undefined),
    });
    if (req.url !== path || req.method !== 'GET') return void res.writeHead(404).end();
    if (r.kind !== 'ok') {
      res
        .writeHead(401, { 'WWW-Authenticate': digestChallenge({ realm, secretKey: key, now: Date.now(), stale: r.kind === 'stale' }) })
        .end();
      return;
    }
    res.writeHead(200, { 'Content-Length': '0' }).end();
    // TR-069 §3.2.2: answer first, then contact the ACS.
    setImmediate(o.onRequest);
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
