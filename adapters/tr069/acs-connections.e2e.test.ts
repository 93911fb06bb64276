import assert from 'node:assert/strict';
import { createConnection, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { initialState, runCpeSession, type CpeState } from './simulator.ts';

// TCP connections per CWMP session. TR-069 §3.4.2: a CPE keeps one connection for the session (and sends
// the request after a 401 on it); the simulator does, so the ACS must carry a whole session (challenge,
// Digest Inform, empty POST, downloads) on one keep-alive connection. Old firmware opens a new connection
// per message: the ACS must not tie a session or a nonce to a socket, so that still works too. A plain
// TCP relay in front of the real server counts the connections the CPE opens.
describe('TR-069 connections per session', () => {
  let s: TestServer;
  let relay: Server;
  let acs: string;
  let accepted = 0;

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'K1', profile: 'thomson-tr069', password: 'k1-pw' });
    s.core.devices.upsert({ id: 'K2', profile: 'thomson-tr069', password: 'k2-pw' });
    relay = createServer((client) => {
      accepted++;
      const upstream = createConnection(s.httpPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((res) => relay.listen(0, '127.0.0.1', res));
    const port = (relay.address() as { port: number }).port;
    acs = `http://127.0.0.1:${port}/tr069`;
  });
  after(async () => {
    relay.close();
    await s.stop();
  });

  /** Two sessions (the first takes the config download, the second is a plain periodic one); connections of each. */
  async function twoSessions(serial: string, password: string, connection: 'session' | 'message'): Promise<number[][]> {
    const state: CpeState = initialState();
    const out: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const before = accepted;
      const r = await runCpeSession({ acs, serial, password, state, connection });
      assert.equal(r.ok, true, r.error);
      assert.equal(r.challenges, 1, 'one Digest challenge a session');
      out.push([accepted - before, r.messages]);
    }
    return out;
  }

  it('a CPE keeping one connection per session: each session on one connection, a new one per session', async () => {
    const [first, second] = await twoSessions('K1', 'k1-pw', 'session');
    assert.equal(first![0], 1, `first session: ${first![1]} messages on one connection`);
    assert.equal(second![0], 1, 'the next session opens its own connection');
    assert.ok(second![1] >= 3, '401, Digest Inform, empty POST');
  });

  it('old firmware opening a connection per message completes its sessions too', async () => {
    const [first, second] = await twoSessions('K2', 'k2-pw', 'message');
    assert.equal(first![0], first![1], 'one connection per HTTP message');
    assert.equal(second![0], second![1]);
    assert.ok(second![1] >= 3);
  });
});
