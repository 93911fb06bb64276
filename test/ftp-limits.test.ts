import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

// Issue 13, defect 4: FTP had no idle timeout and no per-client limits (1,000 never-logged-in connections
// stayed open; 41 PASV commands from one device filled a 41-port passive range). Now a connection that
// does not log in is closed after ftp.loginSeconds, one address holds at most ftp.maxConnectionsPerAddress
// control connections and ftp.maxPassivePerAddress passive listeners.
const DEV = { id: 'ftp-limits', mac: '00908F00B0B0', password: 'pw-limits-1' };

/** A raw control connection: its reply lines as they come. */
class Raw {
  readonly socket: Socket;
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf += d.toString('utf8');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static open(port: number): Promise<Raw> {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Raw(s)));
    });
  }

  /** The next complete reply line (or '' once the server closed the connection). */
  async line(): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        return l;
      }
      if (this.closed) return '';
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** The greeting's last line ("220-…" lines first). */
  async greeting(): Promise<string> {
    let l = await this.line();
    while (l.startsWith('220-')) l = await this.line();
    return l;
  }

  async send(cmd: string): Promise<string> {
    this.socket.write(`${cmd}\r\n`);
    return this.line();
  }

  async login(): Promise<void> {
    assert.match(await this.greeting(), /^220 /);
    assert.match(await this.send(`USER ${DEV.id}`), /^331/);
    assert.match(await this.send(`PASS ${DEV.password}`), /^230/);
  }
}

describe('FTP limits per client address and idle timeouts', () => {
  let s: TestServer;
  const open: Raw[] = [];
  const raw = async (): Promise<Raw> => {
    const r = await Raw.open(s.ftpPort!);
    open.push(r);
    return r;
  };
  before(async () => {
    s = await startTestServer({
      ftp: {
        enabled: true,
        port: 0,
        pasvMin: 41000,
        pasvMax: 41999,
        loginSeconds: 1,
        idleSeconds: 60,
        maxConnectionsPerAddress: 3,
        maxPassivePerAddress: 2,
      },
    });
    s.core.devices.upsert({ ...DEV, profile: 'audiocodes-mp11x', model: 'MP-114' });
  });
  after(async () => {
    for (const r of open) r.socket.destroy();
    await s.stop();
  });

  it('passive listeners per address are capped; the rest get 425 and the session goes on', async () => {
    const conns = [await raw(), await raw(), await raw()];
    for (const c of conns) await c.login();
    assert.match(await conns[0]!.send('PASV'), /^227/);
    assert.match(await conns[1]!.send('EPSV'), /^229/);
    assert.match(await conns[2]!.send('PASV'), /^425 Too many passive connections/);
    // A connection's new PASV replaces its own listener: it does not count twice.
    assert.match(await conns[0]!.send('PASV'), /^227/);
    assert.match(await conns[2]!.send('NOOP'), /^200/);
    for (const c of conns) c.socket.destroy();
  });

  it('a connection beyond maxConnectionsPerAddress is closed with 421', async () => {
    await new Promise((r) => setTimeout(r, 100)); // the previous test's sockets are gone
    const held = [await raw(), await raw(), await raw()];
    for (const c of held) assert.match(await c.greeting(), /^220 /);
    const fourth = await raw();
    assert.match(await fourth.line(), /^421 Too many connections/);
    assert.equal(await fourth.line(), '', 'and closed');
    for (const c of held) c.socket.destroy();
  });

  it('a connection that does not log in within loginSeconds is closed; a logged-in one stays', { timeout: 15_000 }, async () => {
    await new Promise((r) => setTimeout(r, 100));
    const idle = await raw();
    const busy = await raw();
    assert.match(await idle.greeting(), /^220 /);
    await busy.login();
    assert.match(await idle.line(), /^421 Timeout/);
    assert.equal(await idle.line(), '', 'closed');
    assert.match(await busy.send('NOOP'), /^200/, 'past loginSeconds, a logged-in connection is still open');
  });
});
