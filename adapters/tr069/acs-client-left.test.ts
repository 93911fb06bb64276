import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { capturingLogger } from '../../test/helpers/log-capture.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';

// Issue 13, defect 5: a CPE that drops the connection in the middle of its POST body is normal traffic. It
// was logged as "TR-069 request failed" at error level with a stack; now it is a debug line, and the
// server goes on answering.
describe('TR-069: a client leaving mid-body', () => {
  let s: TestServer;
  const { log, lines } = capturingLogger('debug');
  before(async () => {
    s = await startTestServer({}, undefined, log);
  });
  after(async () => {
    await s.stop();
  });

  it('is a debug line without a stack, never an error', async () => {
    const from = lines.length;
    for (const authorization of ['', 'Authorization: Basic eDp5\r\n']) {
      await new Promise<void>((resolve, reject) => {
        const sock = connect(s.httpPort, '127.0.0.1', () => {
          sock.write(
            `POST /tr069 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n${authorization}Content-Length: 60000\r\n\r\n<soap:Envelope>` +
              'x'.repeat(1000),
            () => setTimeout(() => (sock.resetAndDestroy(), resolve()), 100),
          );
        });
        sock.on('error', reject);
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    const mine = lines.slice(from);
    const stack = (l: Record<string, unknown>): unknown => l.stack ?? (l.err as { stack?: unknown } | undefined)?.stack;
    assert.deepEqual(
      mine.filter((l) => Number(l.level) >= 40),
      [],
      'nothing at warn or error level',
    );
    assert.deepEqual(mine.filter(stack), [], 'no stack');
    assert.equal(mine.filter((l) => l.msg === 'CWMP client left mid-body').length, 2, JSON.stringify(mine));
    assert.equal((await fetch(`${s.http}/healthz`)).status, 200);
  });
});
