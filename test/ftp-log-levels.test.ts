import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Client } from 'basic-ftp';
import { ADAPTERS } from '../adapters/index.ts';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { capturingLogger } from './helpers/log-capture.ts';
import { tempDir } from './helpers/server.ts';

// An FTP client's mistakes (a wrong password, a CWD or RETR of something that is not there) are expected
// refusals: one info line each, without a stack; a client hanging up is a debug line at most (issue 13,
// defect 5). Warn, error level and stacks are for APS's own bugs.
const DEV = { id: 'ftp-logs', mac: '00908F00A0A0', password: 'pw-logs-123' };

interface Line {
  level: number;
  msg: string;
  err?: unknown;
  [k: string]: unknown;
}

describe('FTP refusals are info lines without a stack', () => {
  const { log, lines: logged } = capturingLogger('debug');
  const lines = logged as Line[];
  let server: RunningServer;

  before(async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: tempDir(),
        adminToken: 'admin-token-abcdefghijkl',
        http: { host: '127.0.0.1', port: 0 },
        https: { enabled: false },
        ftp: { enabled: true, port: 0, pasvMin: 41000, pasvMax: 41999 },
      },
    });
    server = await startServer(config, ADAPTERS, log);
    server.core.devices.upsert({ ...DEV, profile: 'audiocodes-mp11x', model: 'MP-114' });
  });
  after(async () => {
    await server.close();
  });

  const connect = async (password: string): Promise<Client> => {
    const c = new Client(5000);
    await c.access({ host: '127.0.0.1', port: server.ftpPort!, user: DEV.id, password });
    return c;
  };
  const code = (p: Promise<unknown>): Promise<number | undefined> =>
    p.then(
      () => undefined,
      (e: { code?: number }) => e.code,
    );
  const stackOf = (l: Line): unknown => l.stack ?? (l.err as { stack?: unknown } | undefined)?.stack;
  /** Nothing at warn or error level, and no stack. */
  const assertQuiet = (mine: Line[]): void => {
    assert.deepEqual(
      mine.filter((l) => l.level >= 40),
      [],
      'nothing at warn or error level',
    );
    assert.deepEqual(mine.filter(stackOf), [], 'no stack');
  };

  it('a wrong password: one info line naming the user, no warning, no stack, no password', async () => {
    const from = lines.length;
    assert.equal(await code(connect('wrong-pw-999')), 530);
    const mine = lines.slice(from);
    assertQuiet(mine);
    const infos = mine.filter((l) => l.level === 30);
    assert.equal(infos.length, 1, JSON.stringify(infos));
    assert.equal(infos[0]!.msg, 'FTP login refused');
    assert.equal(infos[0]!.username, DEV.id);
    assert.ok(!JSON.stringify(mine).includes('wrong-pw-999'));
  });

  it('a CWD to a missing folder and a RETR of a missing file: an info line each, no warning, no stack', async () => {
    const c = await connect(DEV.password);
    const from = lines.length;
    try {
      assert.equal(await code(c.cd('/no-such-folder')), 550);
      assert.equal(await code(c.downloadTo(new Writable({ write: (_c, _e, cb) => cb() }), '/no-such-file.ini')), 551);
      assert.deepEqual(await c.pwd(), '/', 'the session goes on');
    } finally {
      c.close();
    }
    const mine = lines.slice(from);
    assertQuiet(mine);
    const infos = mine.filter((l) => l.level === 30 && l.msg === 'FTP command refused').map((l) => [l.directive, l.msg, l.reason]);
    assert.deepEqual(infos, [
      ['CWD', 'FTP command refused', 'No such directory'],
      ['RETR', 'FTP command refused', 'No such file'],
    ]);
  });

  it('a client that hangs up (mid-session, mid-transfer, before login): nothing above debug, no stack', async () => {
    const from = lines.length;
    const c = await connect(DEV.password);
    // A hard close (RST) of the control connection, as a device that reboots does.
    (c.ftp.socket as import('node:net').Socket).resetAndDestroy();
    const raw = await new Promise<import('node:net').Socket>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port: server.ftpPort! }, () => resolve(s));
    });
    raw.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 300));
    const mine = lines.slice(from);
    assertQuiet(mine);
  });
});
