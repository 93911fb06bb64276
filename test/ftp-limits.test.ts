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

  /** `from`: the client address (any of 127/8 on Linux), so each test has per-address counts of its own. */
  static open(port: number, from = '127.0.0.1'): Promise<Raw> {
    return new Promise((resolve) => {
      const s = connect({ port, host: '127.0.0.1', localAddress: from }, () => resolve(new Raw(s)));
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
  const raw = async (from?: string): Promise<Raw> => {
    const r = await Raw.open(s.ftpPort!, from);
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
    // From an address of its own: the previous test's connections may still be closing on the server.
    const from = '127.0.0.2';
    const held = [await raw(from), await raw(from), await raw(from)];
    for (const c of held) assert.match(await c.greeting(), /^220 /);
    const fourth = await raw(from);
    assert.match(await fourth.line(), /^421 Too many connections/);
    assert.equal(await fourth.line(), '', 'and closed');
    for (const c of held) c.socket.destroy();
  });

  it('a connection that does not log in within loginSeconds is closed; a logged-in one stays', { timeout: 15_000 }, async () => {
    const idle = await raw('127.0.0.3');
    const busy = await raw('127.0.0.3');
    assert.match(await idle.greeting(), /^220 /);
    await busy.login();
    assert.match(await idle.line(), /^421 Timeout/);
    assert.equal(await idle.line(), '', 'closed');
    assert.match(await busy.send('NOOP'), /^200/, 'past loginSeconds, a logged-in connection is still open');
  });
});

/** PASV's reply → the data port. */
function pasvPort(reply: string): number {
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply);
  assert.ok(m, reply);
  return Number(m[5]) * 256 + Number(m[6]);
}

/** Logs in, opens a passive data connection and starts RETR of the device's firmware; the data socket is paused. */
async function startRetr(s: TestServer): Promise<{ control: Raw; data: Socket; size: number }> {
  const control = await Raw.open(s.ftpPort!);
  await control.login();
  assert.match(await control.send('TYPE I'), /^200/);
  const size = s.core.catalog.list('audiocodes-mp11x')[0]!.size;
  const port = pasvPort(await control.send('PASV'));
  const data = connect(port, '127.0.0.1');
  data.pause();
  data.on('error', () => undefined);
  await new Promise((r) => data.once('connect', r));
  assert.match(await control.send(`RETR /${DEV.mac.toUpperCase()}/cmp/big_7.0.cmp`), /^150/);
  return { control, data, size };
}

describe('FTP downloads: the minimum send rate and the shutdown grace', () => {
  const firmware = Buffer.alloc(32 * 1024 * 1024, 7); // more than loopback's socket buffers hold
  const server = async (minSendRate: number): Promise<TestServer> => {
    const s = await startTestServer({
      http: { host: '127.0.0.1', port: 0, minSendRate, minSendRateGraceSeconds: 0.5 },
      ftp: { enabled: true, port: 0, pasvMin: 42000, pasvMax: 42999 },
    });
    s.core.devices.upsert({ ...DEV, profile: 'audiocodes-mp11x', model: 'MP-114' });
    await s.core.catalog.addBuffer(firmware, { kind: 'firmware', profile: 'audiocodes-mp11x', version: '7.0', filename: 'big.cmp' });
    return s;
  };

  it('a client that stops reading is cut below http.minSendRate, as over HTTP', { timeout: 20_000 }, async () => {
    const s = await server(1_000_000);
    try {
      const { control, data, size } = await startRetr(s);
      // The server fills the socket buffers, then sees fewer than 1 MB/s over half a second: the transfer ends.
      const reply = await control.line();
      assert.match(reply, /^[45]\d\d Transfer too slow/, `a refused transfer, not 226: ${reply}`);
      const closed = new Promise((r) => data.once('close', r));
      data.resume();
      let got = 0;
      data.on('data', (c: Buffer) => (got += c.length));
      await closed;
      assert.ok(got < size, `cut short: ${got} of ${size} bytes`);
      control.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  it(
    'shutdown refuses new connections and new downloads, and lets a download in flight finish within the grace',
    { timeout: 30_000 },
    async () => {
      const s = await server(0);
      const { control, data, size } = await startRetr(s);
      // Logged in before the shutdown, idle when it begins.
      const earlier = await Raw.open(s.ftpPort!);
      await earlier.login();
      const closing = s.close({ graceMs: 20_000 });
      // Whatever fails, the sockets go, so the grace ends and the process is not left waiting.
      try {
        // A new client is no longer served once the shutdown began.
        const late = await Raw.open(s.ftpPort!);
        assert.match(await late.line(), /^421 Service closing/, 'a connection after the shutdown began is not served');
        late.socket.destroy();
        // Nor is a new download by a client logged in earlier: the grace is for the downloads in flight.
        assert.match(await earlier.send('NOOP'), /^200/, 'a command that starts nothing still passes');
        assert.match(await earlier.send('PASV'), /^421 Service closing/);
        assert.equal(await earlier.line(), '', 'and the control connection is closed');
        let got = 0;
        data.on('data', (c: Buffer) => (got += c.length));
        const ended = new Promise((r) => data.once('end', r));
        data.resume();
        await ended;
        assert.equal(got, size, 'the download in flight completed');
        assert.match(await control.line(), /^226/);
        assert.match(await control.send('PASV'), /^421 Service closing/, 'its client gets no other download');
      } finally {
        for (const sock of [control.socket, data, earlier.socket]) sock.destroy();
      }
      await closing;
    },
  );
});
