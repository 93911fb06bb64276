import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, Server, Socket, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Client } from 'basic-ftp';
import { loadConfig } from '../config.ts';
import { simRequest } from '../sim/http-client.ts';
import { capturingLogger } from '../../test/helpers/log-capture.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { until } from '../../test/helpers/until.ts';
import { checkFtpSrvVersion, FTP_SRV_VERSION, pasvAddress } from './ftp-server.ts';

// The core's ftp-srv against a real client: a raw control connection where the exact reply matters,
// basic-ftp elsewhere. The AudioCodes adapter provides the view (the only FTP mount today).
const PROFILE = 'audiocodes-mp11x';
const DEV = { id: 'ftp-core', mac: '00908F00C0DE', password: 'pw-core-123' };

/** A raw FTP control connection: send a command, get its final reply line (1xx lines are kept apart). */
class Raw {
  private buf = '';
  readonly lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        if (!/^\d{3} /.test(line)) continue;
        this.lines.push(line);
        if (!line.startsWith('1') && this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w(line);
        }
      }
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<Raw> {
    const socket = connect(port, host);
    const raw = new Raw(socket);
    await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
    const greeting = await raw.reply();
    assert.match(greeting, /^220 /);
    return raw;
  }

  /** The next final reply, or 'TIMEOUT' when the server says nothing within `ms`. */
  reply(ms = 3000): Promise<string> {
    const pending = this.lines.findIndex((l) => !l.startsWith('1'));
    if (pending >= 0) return Promise.resolve(this.lines.splice(0, pending + 1).pop()!);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiting = null;
        resolve('TIMEOUT');
      }, ms);
      this.waiting = (line) => {
        clearTimeout(t);
        this.lines.length = 0;
        resolve(line);
      };
    });
  }

  async send(cmd: string, ms?: number): Promise<string> {
    this.lines.length = 0;
    this.socket.write(`${cmd}\r\n`);
    return this.reply(ms);
  }

  async login(user = DEV.id, password = DEV.password): Promise<void> {
    assert.match(await this.send(`USER ${user}`), /^331 /);
    assert.match(await this.send(`PASS ${password}`), /^230 /);
  }

  close(): void {
    this.socket.destroy();
  }
}

function pasvTarget(reply: string): { host: string; port: number } {
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply);
  assert.ok(m, `a PASV reply: ${reply}`);
  return { host: m.slice(1, 5).join('.'), port: Number(m[5]) * 256 + Number(m[6]) };
}

function epsvPort(reply: string): number {
  const m = /^229 .*\(\|\|\|(\d+)\|\)/.exec(reply);
  assert.ok(m, `an EPSV reply: ${reply}`);
  return Number(m[1]);
}

/** A data connection to an announced address. */
async function dataTo(host: string, port: number): Promise<Socket> {
  const data = connect(port, host);
  await new Promise<void>((res, rej) => data.once('connect', res).once('error', rej));
  return data;
}

/** Runs LIST / over a data connection (made to host:port, or the one given) and returns the listing. */
async function listVia(raw: Raw, to: { host: string; port: number } | Socket): Promise<string> {
  const data = to instanceof Socket ? to : await dataTo(to.host, to.port);
  let listing = '';
  data.on('data', (b: Buffer) => (listing += b.toString()));
  const closed = new Promise((r) => data.once('close', r));
  assert.match(await raw.send('LIST /'), /^226 /);
  await closed;
  return listing;
}

/** Whether something accepts a TCP connection on host:port (a connection made is closed at once). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, host);
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true)).once('error', () => done(false));
  });
}

/** Whether this host can listen on the IPv6 loopback address. */
function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(0, '::1', () => srv.close(() => resolve(true)));
  });
}

const sink = (): Writable =>
  new Writable({
    write(_c, _e, cb): void {
      cb();
    },
  });

/** Open file descriptors of this process (the server runs in it) that point into the blob folder. */
function openBlobFds(dataDir: string): string[] {
  const blobs = join(dataDir, 'blobs');
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(blobs)) out.push(target);
    } catch {
      // closed while listing
    }
  }
  return out;
}

/**
 * Puts `hook` in place of net.Server#listen until the returned undo is called. `listen` runs the real listen
 * with the arguments given. ftp-srv's passive listener is its only server with pauseOnConnect; its check that
 * a port is free is a listener accepting nothing (maxConnections 0).
 */
function hookListen(hook: (server: Server & { pauseOnConnect?: boolean }, args: unknown[], listen: () => Server) => Server): () => void {
  const real = Object.getOwnPropertyDescriptor(Server.prototype, 'listen')!.value as (this: Server, ...a: unknown[]) => Server;
  Server.prototype.listen = function (this: Server, ...args: unknown[]): Server {
    return hook(this, args, () => real.apply(this, args));
  } as typeof Server.prototype.listen;
  return (): void => {
    Server.prototype.listen = real as typeof Server.prototype.listen;
  };
}

describe('FTP server: failures stay local to one transfer', () => {
  let s: TestServer;
  let cmpPath: string;
  let cmpSha: string;

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: DEV.id, profile: PROFILE, mac: DEV.mac, model: 'MP-114', password: DEV.password });
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(40 * 1024 * 1024, 7), {
      kind: 'firmware',
      profile: PROFILE,
      version: '6.60A.360.002',
      filename: 'MP11x.cmp',
    });
    cmpSha = fw.sha256;
    const c = new Client(5000);
    await c.access({ host: '127.0.0.1', port: s.ftpPort!, user: DEV.id, password: DEV.password });
    const [name] = (await c.list(`/${DEV.mac}/cmp`)).map((e) => e.name);
    c.close();
    cmpPath = `/${DEV.mac}/cmp/${name}`;
  });
  after(async () => {
    await s.stop();
  });

  it('aborted downloads leave no file descriptor open', { skip: process.platform !== 'linux' && 'counts /proc/self/fd' }, async () => {
    const before = openBlobFds(s.dataDir).length;
    const raw = await Raw.open(s.ftpPort!);
    await raw.login();
    assert.match(await raw.send('TYPE I'), /^200 /);
    for (let i = 0; i < 5; i++) {
      const { port } = pasvTarget(await raw.send('PASV'));
      const data = connect(port, '127.0.0.1');
      let got = 0;
      const aborted = new Promise<void>((resolve) => {
        data.on('data', (c: Buffer) => {
          got += c.length;
          if (got > 100_000) {
            data.destroy();
            resolve();
          }
        });
      });
      data.on('error', () => {});
      raw.socket.write(`RETR ${cmpPath}\r\n`);
      await aborted;
      // The transfer ends with a reply (not a hung session), and the control connection stays usable.
      assert.match(await raw.reply(5000), /^[45]\d\d /);
    }
    assert.match(await raw.send('NOOP'), /^200 /);
    raw.close();
    await until(
      'no blob file descriptor left open',
      () => openBlobFds(s.dataDir),
      (fds) => fds.length <= before,
    );
  });

  it('a blob missing from the data folder is a 551 without a path, and the server keeps running', async () => {
    const blob = s.core.catalog.blobs.pathOf(cmpSha);
    renameSync(blob, `${blob}.away`);
    try {
      const raw = await Raw.open(s.ftpPort!);
      await raw.login();
      const { port } = pasvTarget(await raw.send('PASV'));
      const data = connect(port, '127.0.0.1');
      data.on('error', () => {});
      const reply = await raw.send(`RETR ${cmpPath}`);
      assert.match(reply, /^551 File unavailable$/);
      assert.ok(!reply.includes(s.dataDir));
      data.destroy();
      raw.close();
      // The whole server is still up: HTTP answers, and FTP serves the next request.
      const health = await simRequest({ url: `${s.http}/healthz` });
      assert.equal(health.status, 200);
      const c = new Client(5000);
      await c.access({ host: '127.0.0.1', port: s.ftpPort!, user: DEV.id, password: DEV.password });
      await c.downloadTo(sink(), `/${DEV.mac}.ini`);
      await assert.rejects(c.downloadTo(sink(), cmpPath), (e: { code?: number }) => e.code === 551);
      c.close();
    } finally {
      renameSync(`${blob}.away`, blob);
    }
  });
});

describe('FTP server: commands a read-only server refuses cleanly', () => {
  let s: TestServer;
  let raw: Raw;

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: DEV.id, profile: PROFILE, mac: DEV.mac, model: 'MP-114', password: DEV.password });
    raw = await Raw.open(s.ftpPort!);
    await raw.login();
  });
  after(async () => {
    raw.close();
    await s.stop();
  });

  it('answers bare SITE, OPTS, PORT and EPRT instead of hanging', async () => {
    assert.match(await raw.send('SITE'), /^502 /);
    assert.match(await raw.send('SITE CHMOD 777 x'), /^502 /);
    assert.match(await raw.send('OPTS'), /^501 /);
    assert.match(await raw.send('PORT'), /^501 /);
    assert.match(await raw.send('EPRT'), /^501 /);
    assert.match(await raw.send('RETR'), /^501 /);
    // The session is still alive and in sync.
    assert.match(await raw.send('OPTS UTF8 ON'), /^200 /);
    assert.match(await raw.send('PWD'), /^257 /);
  });

  it('blacklists every write command', async () => {
    for (const cmd of ['STOR x', 'STOU', 'APPE x', 'DELE x', 'MKD x', 'RMD x', 'RNFR x', 'RNTO y', 'ALLO 10']) {
      assert.match(await raw.send(cmd), /^502 /, cmd);
    }
  });

  it('a restart offset beyond the file is a clean 551, and a valid one resumes', async () => {
    const ini = `/${DEV.mac}.ini`;
    assert.match(await raw.send('REST 100000000000000000000'), /^350 /);
    let { port } = pasvTarget(await raw.send('PASV'));
    let data = connect(port, '127.0.0.1');
    data.on('error', () => {});
    const reply = await raw.send(`RETR ${ini}`);
    assert.equal(reply, '551 Restart offset beyond the end of the file');
    data.destroy();

    // REST 10 then RETR sends the ini from byte 10.
    const c = new Client(5000);
    await c.access({ host: '127.0.0.1', port: s.ftpPort!, user: DEV.id, password: DEV.password });
    const chunks: Buffer[] = [];
    await c.downloadTo(
      new Writable({
        write(b: Buffer, _e, cb): void {
          chunks.push(b);
          cb();
        },
      }),
      ini,
    );
    const whole = Buffer.concat(chunks);
    c.close();
    assert.match(await raw.send('REST 10'), /^350 /);
    ({ port } = pasvTarget(await raw.send('PASV')));
    data = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    data.on('data', (b: Buffer) => got.push(b));
    const closed = new Promise((r) => data.once('close', r));
    assert.match(await raw.send(`RETR ${ini}`), /^226 /);
    await closed;
    assert.deepEqual(Buffer.concat(got), whole.subarray(10));
  });
});

describe('FTP server: the PASV address', () => {
  const remote = { localAddress: '192.0.2.2', remoteAddress: '198.51.100.7' };
  const cfg = (o: Record<string, unknown> = {}) =>
    loadConfig({ env: {}, file: undefined, overrides: { http: { host: '0.0.0.0', port: 8080 }, ...o } });

  it('is never loopback for a remote client: pasvUrl, else an IP public URL, else the local address', () => {
    assert.equal(pasvAddress(cfg(), remote), '192.0.2.2');
    assert.equal(pasvAddress(cfg(), { ...remote, localAddress: '::ffff:192.0.2.2' }), '192.0.2.2');
    assert.equal(pasvAddress(cfg({ publicUrl: 'http://203.0.113.5:8080' }), remote), '203.0.113.5');
    assert.equal(pasvAddress(cfg({ publicUrl: 'http://prov.example:8080' }), remote), '192.0.2.2', 'a host name is not an address');
    assert.equal(pasvAddress(cfg({ publicUrl: 'http://203.0.113.5:8080', ftp: { pasvUrl: '203.0.113.9' } }), remote), '203.0.113.9');
    // A loopback client is answered on loopback whatever the settings (ftp-srv's own rule).
    assert.equal(
      pasvAddress(cfg({ publicUrl: 'http://203.0.113.5:8080' }), { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1' }),
      '127.0.0.1',
    );
  });

  it(
    'a server on all interfaces answers a client on another loopback address (127.0.0.2) with that address',
    { skip: process.platform !== 'linux' && 'relies on Linux routing all of 127/8 to lo' },
    async () => {
      const s = await startTestServer({ http: { host: '0.0.0.0', port: 0 } });
      try {
        s.core.devices.upsert({ id: DEV.id, profile: PROFILE, mac: DEV.mac, model: 'MP-114', password: DEV.password });
        const raw = await Raw.open(s.ftpPort!, '127.0.0.2');
        await raw.login();
        const target = pasvTarget(await raw.send('PASV'));
        assert.equal(target.host, '127.0.0.2', 'the address the client reached, not 127.0.0.1 or a LAN address');
        assert.match(await listVia(raw, target), new RegExp(`${DEV.mac}\\.ini`));
        raw.close();
      } finally {
        await s.stop();
      }
    },
  );

  it('refuses a pasvUrl that is not an IPv4 address at start-up', () => {
    assert.throws(() => cfg({ ftp: { pasvUrl: 'prov.example' } }), /ftp\.pasvUrl/);
  });
});

describe('FTP server: passive listeners do not pile up', () => {
  // A range of 4 ports: without ending the previous listener, the fifth PASV would find no free port.
  const PASV_MIN = 42350;
  const PASV_MAX = 42353;
  let s: TestServer;
  const logged = capturingLogger('debug');

  before(async () => {
    s = await startTestServer({ ftp: { enabled: true, port: 0, pasvMin: PASV_MIN, pasvMax: PASV_MAX } }, undefined, logged.log);
    s.core.devices.upsert({ id: DEV.id, profile: PROFILE, mac: DEV.mac, model: 'MP-114', password: DEV.password });
  });
  after(async () => {
    await s.stop();
  });

  // Each announced port is connected to, as a client would: an unused passive listener also keeps ftp-srv's
  // 30 s idle timer (harmless, but it would hold this test process open that long).
  it('20 PASV/EPSV in a row on one control connection leave one passive listener, and it works', async () => {
    const raw = await Raw.open(s.ftpPort!);
    await raw.login();
    let last = 0;
    const announced = new Set<number>();
    const data: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      if (i % 4 === 3) last = epsvPort(await raw.send('EPSV'));
      else {
        const reply = await raw.send('PASV');
        assert.match(reply, /^227 /, `PASV #${i + 1}`);
        last = pasvTarget(reply).port;
      }
      announced.add(last);
      data.push(await dataTo('127.0.0.1', last));
    }
    // Let any late 'close' of a retired listener run: it must not reset the connection's connector.
    await new Promise((r) => setTimeout(r, 200));
    // Only ports this server announced are probed: another test process may hold a port of the range (a
    // listener the kernel gave it), and the server then skips that port rather than announce it.
    const open: number[] = [];
    for (const port of announced) if (port !== last && (await accepts('127.0.0.1', port))) open.push(port);
    assert.deepEqual(open, [], 'no listener besides the last one is open');
    // The earlier data connections were ended with their listeners; the last one carries a listing.
    await until('earlier data connections closed', () => data.slice(0, -1).every((d) => d.closed));
    assert.match(await listVia(raw, data.at(-1)!), new RegExp(`${DEV.mac}\\.ini`));
    assert.match(await raw.send('NOOP'), /^200 /);
    raw.close();
  });

  it('a passive port taken between the check that it is free and the listen is skipped, never a PASV left unanswered', async () => {
    const raw = await Raw.open(s.ftpPort!);
    await raw.login();
    // ftp-srv checks a port, closes the check, then listens: another process binding the port in that gap
    // (every test process starts at the same port of the same range) is made certain here. Just before the
    // passive listener (ftp-srv's only server with pauseOnConnect) binds its port, a plain listener takes it.
    let taken: Server | undefined;
    const unhook = hookListen((server, args, listen) => {
      // Bound as the listener binds (port, host): its own listen, asked for just after, finds the port taken.
      if (server.pauseOnConnect === true && !taken)
        taken = createServer()
          .on('error', () => {})
          .listen(args[0] as number, args[1] as string);
      return listen();
    });
    let reply: string;
    try {
      reply = await raw.send('PASV', 10_000);
    } finally {
      unhook();
    }
    try {
      assert.ok(taken?.listening, 'the port was taken before the passive listener could bind it');
      const takenPort = (taken.address() as AddressInfo).port;
      assert.match(reply, /^227 /);
      const target = pasvTarget(reply);
      assert.notEqual(target.port, takenPort, 'the next port of the range');
      assert.match(await listVia(raw, target), new RegExp(`${DEV.mac}\\.ini`));
    } finally {
      raw.close();
      const blocker = taken;
      if (blocker) await new Promise((r) => blocker.close(r));
    }
  });

  it('a client gone while its PASV is retried on another port leaves no passive listener behind', async () => {
    const linesBefore = logged.lines.length;
    const raw = await Raw.open(s.ftpPort!);
    await raw.login();
    // As above, the first port is taken just before the passive listener binds it. The client hangs up as the
    // retry checks the next port (ftp-srv's check: a listener accepting nothing), and that check is held until
    // the server has seen the control connection close: the retry's listener comes after the close.
    const passive: Server[] = [];
    let taken: Server | undefined;
    let hungUp = false;
    const unhook = hookListen((server, args, listen) => {
      if (server.pauseOnConnect === true) {
        passive.push(server);
        if (!taken)
          taken = createServer()
            .on('error', () => {})
            .listen(args[0] as number, args[1] as string);
      } else if (taken && !hungUp && server.maxConnections === 0) {
        hungUp = true;
        raw.socket.destroy();
        setTimeout(listen, 300);
        return server;
      }
      return listen();
    });
    try {
      raw.socket.write('PASV\r\n');
      await until('the first passive listen was made to fail, and the client hung up', () => taken?.listening === true && hungUp);
      await until('the retry listened', () => passive.length >= 2);
      // ftp-srv's own idle timer would close a leaked listener only after 30 s.
      await until(
        'every passive listener of the gone client closed',
        () => passive.map((p) => p.listening),
        (l) => l.every((x) => !x),
        5_000,
      );
      // A client hanging up is no server fault: nothing about it at warn level.
      const warned = logged.lines.slice(linesBefore).filter((l) => (l.level as number) >= 40);
      assert.deepEqual(warned, []);
    } finally {
      unhook();
      const blocker = taken;
      if (blocker) await new Promise((r) => blocker.close(r));
    }
  });

  it('a PASV sent again before the first is answered leaves one passive listener, the last one', async () => {
    const raw = await Raw.open(s.ftpPort!);
    await raw.login();
    // ftp-srv handles each read of the control socket at once: the second PASV, sent while the first checks
    // its port (that check held until the second has surely arrived), runs beside the first.
    const passive: Server[] = [];
    let sent = false;
    const unhook = hookListen((server, args, listen) => {
      if (server.pauseOnConnect === true) passive.push(server);
      else if (!sent && server.maxConnections === 0) {
        sent = true;
        raw.socket.write('PASV\r\n');
        setTimeout(listen, 300);
        return server;
      }
      return listen();
    });
    try {
      raw.socket.write('PASV\r\n');
      const replies = [await raw.reply(10_000), await raw.reply(10_000)];
      for (const r of replies) assert.match(r, /^227 /);
      await until(
        'one passive listener open',
        () => passive.filter((p) => p.listening).length,
        (n) => n === 1,
        5_000,
      );
      assert.match(await listVia(raw, pasvTarget(replies[1]!)), new RegExp(`${DEV.mac}\\.ini`), 'the last one announced works');
    } finally {
      unhook();
      raw.close();
      for (const p of passive) p.close();
    }
  });

  it('EPSV: the other protocol is a 522, and after EPSV ALL only EPSV sets up a data connection (RFC 2428)', async () => {
    const raw = await Raw.open(s.ftpPort!);
    await raw.login();
    assert.match(await raw.send('EPSV 2'), /^522 .*\(1\)/);
    const first = await dataTo('127.0.0.1', epsvPort(await raw.send('EPSV 1')));
    assert.match(await raw.send('EPSV ALL'), /^200 /);
    assert.match(await raw.send('PASV'), /^503 /);
    assert.match(await raw.send('PORT 127,0,0,1,4,1'), /^503 /);
    const port = epsvPort(await raw.send('EPSV'));
    assert.match(await listVia(raw, { host: '127.0.0.1', port }), new RegExp(`${DEV.mac}\\.ini`));
    first.destroy();
    raw.close();
  });
});

describe('FTP server: IPv6 clients', () => {
  let s: TestServer | undefined;
  let v6 = false;

  before(async () => {
    v6 = await hasIpv6Loopback();
    if (!v6) return;
    // All interfaces, IPv6 and IPv4 (dual stack); the client comes over ::1.
    s = await startTestServer({ http: { host: '::', port: 0 } });
    s.core.devices.upsert({ id: DEV.id, profile: PROFILE, mac: DEV.mac, model: 'MP-114', password: DEV.password });
  });
  after(async () => {
    await s?.stop();
  });

  it('PASV over IPv6 is a 522 pointing to EPSV, and EPSV works over ::1', async (t) => {
    if (!v6) return t.skip('this host has no IPv6 loopback (::1)');
    const raw = await Raw.open(s!.ftpPort!, '::1');
    await raw.login();
    assert.match(await raw.send('PASV'), /^522 .*EPSV/);
    assert.match(await raw.send('EPSV 1'), /^522 .*\(2\)/);
    const port = epsvPort(await raw.send('EPSV'));
    assert.match(await listVia(raw, { host: '::1', port }), new RegExp(`${DEV.mac}\\.ini`));
    raw.close();
    // A stock client over IPv6 downloads a file.
    const c = new Client(5000);
    await c.access({ host: '::1', port: s!.ftpPort!, user: DEV.id, password: DEV.password });
    const chunks: Buffer[] = [];
    await c.downloadTo(
      new Writable({
        write(b: Buffer, _e, cb): void {
          chunks.push(b);
          cb();
        },
      }),
      `/${DEV.mac}.ini`,
    );
    c.close();
    assert.ok(Buffer.concat(chunks).length > 0);
  });
});

describe('FTP server: running on ftp-srv internals', () => {
  it(`refuses to start on any ftp-srv but ${FTP_SRV_VERSION}, naming the version found`, () => {
    assert.doesNotThrow(() => checkFtpSrvVersion(), 'the installed ftp-srv is the pinned one');
    assert.throws(() => checkFtpSrvVersion('4.7.0'), /ftp-srv 4\.7\.0 is installed.*4\.6\.3/);
    assert.throws(() => checkFtpSrvVersion(null), /version unknown/);
  });

  it('a connection the guard cannot be installed on is closed with a 421, and the server keeps running', async () => {
    const s = await startTestServer();
    // ftp-srv's own command dispatcher with another shape (as a different release might have it).
    const Commands = createRequire(import.meta.url)('ftp-srv/src/commands') as { prototype: { handle: unknown } };
    const handle = Commands.prototype.handle;
    try {
      s.core.devices.upsert({ id: DEV.id, profile: PROFILE, mac: DEV.mac, model: 'MP-114', password: DEV.password });
      Commands.prototype.handle = undefined;
      const sock = connect(s.ftpPort!, '127.0.0.1');
      let said = '';
      sock.on('data', (b: Buffer) => (said += b.toString()));
      sock.on('error', () => {});
      await new Promise((r) => sock.once('close', r));
      assert.match(said, /^421 /);
      Commands.prototype.handle = handle;
      // Still up: HTTP answers and the next FTP session is a normal one.
      assert.equal((await simRequest({ url: `${s.http}/healthz` })).status, 200);
      const c = new Client(5000);
      await c.access({ host: '127.0.0.1', port: s.ftpPort!, user: DEV.id, password: DEV.password });
      await c.downloadTo(sink(), `/${DEV.mac}.ini`);
      c.close();
    } finally {
      Commands.prototype.handle = handle;
      await s.stop();
    }
  });
});
