import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isIPv4, type Server, type Socket } from 'node:net';
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { FileSystem, FtpSrv, type FtpConnection } from 'ftp-srv';
import { firstLanAddress, urlHost, type ApsConfig } from '../config.ts';
import { ApsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AccessGuard } from './access-guard.ts';
import { clientAddress } from './networks.ts';
import type { FtpEntry, FtpResolver as Resolver, FtpView } from './ftp-mount.ts';
import type { RefusalLog } from './refusal-log.ts';
import { watchSendRate, type SendRateLimit } from './send-rate.ts';

export interface FtpServerHandle {
  port: number;
  /**
   * Refuses new control connections at once, lets downloads in flight finish for at most `graceMs` (the
   * shutdown grace HTTP gets too), then closes every connection. Resolves with how many downloads were cut.
   */
  close(graceMs?: number): Promise<number>;
}

/** The downloads in flight (for the shutdown grace) and the slowest one may go. */
interface Transfers {
  active: Set<PassThrough>;
  rate: SendRateLimit;
}

/**
 * The one ftp-srv release this module is written against. It reaches into ftp-srv's internals: the
 * server's 'connect' event (fired while the socket is still paused), connection.commands.parse/handle,
 * connection.connector (its socket, dataServer and end()), the passive connector's setupServer() and the
 * 'client-error' event its listener's errors go to.
 * Another release may change any of them, so startFtpServer checks the installed version at run time and
 * refuses to start FTP on any other. Falling back to plain ftp-srv was rejected on purpose: the guards
 * below are what keep 4.6.3 from hanging or crashing on bare commands, announce reachable PASV addresses
 * and stop passive listeners from leaking, so an FTP server without them is worse than a clear start-up
 * error (install the pinned version with `npm ci`, or set ftp.enabled: false).
 */
export const FTP_SRV_VERSION = '4.6.3';

const requireCjs = createRequire(import.meta.url);

type PassiveConnectorClass = new (connection: FtpConnection) => { setupServer(): Promise<Server> };

function installedFtpSrvVersion(): string | undefined {
  try {
    return (requireCjs('ftp-srv/package.json') as { version?: unknown }).version?.toString();
  } catch {
    return undefined;
  }
}

/** Throws a clear error unless `installed` (default: the ftp-srv found at run time; null: none found) is FTP_SRV_VERSION. */
export function checkFtpSrvVersion(installed: string | null = installedFtpSrvVersion() ?? null): void {
  if (installed === FTP_SRV_VERSION) return;
  throw new ApsError(
    'internal',
    `FTP cannot start: ftp-srv ${installed ?? '(version unknown)'} is installed, but APS's FTP server is written against ftp-srv ${FTP_SRV_VERSION} ` +
      `and uses its internals; install ftp-srv ${FTP_SRV_VERSION} (npm ci) or set ftp.enabled: false`,
  );
}

/**
 * Commands a read-only server has no use for: ftp-srv answers them "502 Command blacklisted". SITE also
 * hangs ftp-srv 4.6.3 when sent bare. Active mode (PORT/EPRT) stays: embedded FTP clients may only know
 * it, and ftp-srv connects back only to the control connection's own address (no FTP bounce).
 */
export const FTP_BLACKLIST = ['STOR', 'STOU', 'APPE', 'DELE', 'MKD', 'RMD', 'RNFR', 'RNTO', 'SITE', 'ALLO'] as const;

/** Commands ftp-srv 4.6.3 crashes on (no reply, hung session) or mishandles when sent without an argument. */
const NEEDS_ARG = new Set(['OPTS', 'PORT', 'EPRT', 'RETR', 'SIZE', 'MDTM', 'CWD', 'REST']);

/**
 * A refusal of what a client asked (a missing file, a wrong password, a write): expected, so ftp-srv's
 * `log.error(err)` for it becomes one info line without a stack (see ftpSrvLog). `already` marks a refusal
 * this module has logged itself: ftp-srv's line for it is then only a debug line.
 */
export class FtpRefusal extends Error {
  readonly already: boolean;
  constructor(message: string, already = false, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FtpRefusal';
    this.already = already;
  }
}

/** Socket errors a client causes (it hung up, never opened the data connection): not APS's bugs. */
const CLIENT_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);
/** ftp-srv 4.6.3's messages for a reply it could not write, and what says the client was gone. */
const REPLY_ERRORS = new Set(['[Process Letter] Socket Write Error', 'Satisfy Parameters Error']);
const CLIENT_GONE =
  /ECONNRESET|EPIPE|ERR_STREAM_DESTROYED|ERR_STREAM_WRITE_AFTER_END|socket has been ended|after it was destroyed|write after end/i;

type LogArgs = [unknown, ...unknown[]];
interface FtpSrvLog {
  child(bindings: Record<string, unknown>): FtpSrvLog;
  trace(...a: LogArgs): void;
  debug(...a: LogArgs): void;
  info(...a: LogArgs): void;
  warn(...a: LogArgs): void;
  error(...a: LogArgs): void;
  fatal(...a: LogArgs): void;
}

/**
 * The logger handed to ftp-srv. ftp-srv 4.6.3 calls `log.error(err)` for every failed command, so a CWD
 * to a missing folder or a wrong password became an error line with a stack. Here a client's refusal is
 * an info line with its reason (or debug when APS logged it already), a client's socket error a debug line;
 * anything else stays an error with its stack: that one is a bug worth seeing.
 */
function ftpSrvLog(log: Logger): FtpSrvLog {
  const call =
    (level: 'trace' | 'debug' | 'info' | 'warn' | 'fatal') =>
    (...a: LogArgs): void =>
      (log[level] as (...x: unknown[]) => void)(...a);
  return {
    child: (bindings) => ftpSrvLog(log.child(bindings)),
    trace: call('trace'),
    debug: call('debug'),
    info: call('info'),
    warn: call('warn'),
    fatal: call('fatal'),
    error: (first, ...rest) => {
      if (first instanceof FtpRefusal) {
        if (first.already) return log.debug({ reason: first.message }, 'FTP command refused');
        return log.info({ reason: first.message }, 'FTP command refused');
      }
      const e = first instanceof Error ? (first as NodeJS.ErrnoException) : null;
      // A client that hangs up (or never opens its data connection) is normal traffic: debug, no stack.
      if (e && (CLIENT_ERRORS.has(String(e.code)) || e.name === 'TimeoutError')) {
        return log.debug({ reason: e.message, code: e.code }, typeof rest[0] === 'string' ? rest[0] : 'FTP client connection failed');
      }
      // ftp-srv's reply to a socket the client already closed: `log.error('…Socket Write Error', {error})`.
      const detail = (rest[0] as { error?: unknown } | undefined)?.error;
      if (typeof first === 'string' && REPLY_ERRORS.has(first) && typeof detail === 'string' && CLIENT_GONE.test(detail)) {
        return log.debug({ reason: detail }, `FTP reply not delivered: ${first}`);
      }
      (log.error as (...x: unknown[]) => void)(first, ...rest);
    },
  };
}

interface StatLike {
  name: string;
  size: number;
  mtime: Date;
  mode: number;
  isDirectory(): boolean;
}

function toStat(e: FtpEntry): StatLike {
  return { name: e.name, size: e.size, mtime: e.mtime, mode: e.isDirectory ? 0o40555 : 0o100444, isDirectory: () => e.isDirectory };
}

/** The data socket of the transfer in progress (ftp-srv's connector), if any. */
function dataSocketOf(connection: FtpConnection): Socket | undefined {
  return (connection as unknown as { connector?: { socket?: Socket | null } }).connector?.socket ?? undefined;
}

/**
 * A read-only virtual file system over an adapter's view. It never touches a real path on behalf of a
 * client, and every error message names only virtual paths: ftp-srv 4.6.3 copies err.message into its
 * 550/551 replies, which with its default file system reveals the server's absolute paths.
 */
class ViewFs extends FileSystem {
  private dir = '/';
  private readonly view: FtpView;
  private readonly log: Logger;
  private readonly conn: FtpConnection;
  private readonly transfers: Transfers;

  constructor(connection: FtpConnection, view: FtpView, log: Logger, transfers: Transfers) {
    super(connection, { root: '/', cwd: '/' });
    this.view = view;
    this.log = log;
    this.conn = connection;
    this.transfers = transfers;
  }

  override currentDirectory(): string {
    return this.dir;
  }

  private abs(p?: string): string {
    // Resolving against the virtual cwd from "/" can never climb above "/".
    return posix.resolve(this.dir, String(p ?? '.').replace(/\\/g, '/'));
  }

  override async get(fileName: string): Promise<StatLike> {
    const p = this.abs(fileName);
    if (p === '/') return { name: '/', size: 0, mtime: new Date(0), mode: 0o40555, isDirectory: () => true };
    const e = this.view.stat(p);
    if (!e) throw new FtpRefusal('No such file or directory');
    return toStat(e);
  }

  override async list(path?: string): Promise<StatLike[]> {
    const entries = this.view.list(this.abs(path));
    if (!entries) throw new FtpRefusal('No such directory');
    return entries.map(toStat);
  }

  override async chdir(path?: string): Promise<string> {
    const p = this.abs(path);
    if (!this.view.list(p)) throw new FtpRefusal('No such directory');
    this.dir = p;
    return p;
  }

  /**
   * The file as a stream ftp-srv sends. The blob is opened first, so a missing or unreadable blob is a
   * clean 551 (and a log line) rather than a stream error. The stream handed over always has an 'error'
   * listener (ftp-srv attaches its own only later), and the source is destroyed whenever the consumer goes
   * away: an aborted download never leaves a file descriptor open.
   */
  override async read(fileName: string, opts?: { start?: number }): Promise<{ stream: Readable; clientPath: string }> {
    const p = this.abs(fileName);
    const e = this.view.stat(p);
    if (!e || e.isDirectory || !e.body) throw new FtpRefusal('No such file');
    const start = opts?.start ?? 0;
    const size = 'bytes' in e.body ? e.body.bytes.length : e.size;
    if (!Number.isSafeInteger(start) || start < 0 || start > size) throw new FtpRefusal('Restart offset beyond the end of the file');
    let source: Readable;
    if ('bytes' in e.body) source = Readable.from([e.body.bytes.subarray(start)]);
    else {
      let fh;
      try {
        fh = await open(e.body.path, 'r');
      } catch (err) {
        // The reason (a blob gone from the data folder…) is the operator's; the client learns nothing.
        this.log.error({ path: p, err: (err as Error).message }, 'FTP: cannot open the file to send');
        throw new FtpRefusal('File unavailable', true, { cause: err }); // ftp-srv sends only the message
      }
      source = fh.createReadStream({ start });
    }
    // The PassThrough hides the blob path: ftp-srv reports stream.path and error messages to clients.
    const out = new PassThrough();
    out.on('error', (err) => this.log.debug({ path: p, err: err.message }, 'FTP: transfer ended early'));
    source.on('error', (err) => {
      this.log.error({ path: p, err: err.message }, 'FTP: read failed');
      out.destroy(new FtpRefusal('Read failed', true));
    });
    out.on('close', () => source.destroy());
    const data = dataSocketOf(this.conn);
    const abort = (): void => {
      if (!out.readableEnded) out.destroy(new FtpRefusal('Data connection closed', true));
    };
    data?.once('close', abort);
    // A client that stops reading holds a data connection and a file descriptor: cut below the minimum rate.
    const watch = watchSendRate(data, this.transfers.rate, () => {
      this.log.info({ path: p, reason: watch.reason(), ip: this.conn.ip }, 'FTP download too slow: cut');
      out.destroy(new FtpRefusal('Transfer too slow', true));
    });
    this.transfers.active.add(out);
    out.once('close', () => {
      data?.off('close', abort);
      watch.stop();
      this.transfers.active.delete(out);
    });
    let bytes = 0;
    source.on('data', (c: Buffer) => (bytes += c.length));
    source.on('end', () => this.view.onDownload?.(p, bytes));
    source.pipe(out);
    return { stream: out, clientPath: p };
  }

  override write(): never {
    throw new FtpRefusal('Permission denied: read-only server');
  }
  override async delete(): Promise<never> {
    throw new FtpRefusal('Permission denied: read-only server');
  }
  override async mkdir(): Promise<never> {
    throw new FtpRefusal('Permission denied: read-only server');
  }
  override async rename(): Promise<never> {
    throw new FtpRefusal('Permission denied: read-only server');
  }
  override async chmod(): Promise<never> {
    throw new FtpRefusal('Permission denied: read-only server');
  }
}

const isLoopback = (a: string | undefined): boolean => !!a && (a === '::1' || /^(::ffff:)?127\./.test(a));
const ipv4Of = (a: string | undefined): string | undefined => {
  const v = a?.replace(/^::ffff:/, '');
  return v && isIPv4(v) ? v : undefined;
};

/**
 * The address PASV announces for one control connection: a loopback client gets the loopback address it
 * used; otherwise `ftp.pasvUrl` when set, else the public URL's host when it is an IPv4 address (what
 * devices were told to use, e.g. APS behind NAT), else the address the client reached this server on
 * (the control connection's local address). Never 127.0.0.1 for a remote client.
 */
export function pasvAddress(config: ApsConfig, control: Pick<Socket, 'localAddress' | 'remoteAddress'>): string {
  const local = ipv4Of(control.localAddress);
  if (isLoopback(control.remoteAddress)) return local ?? '127.0.0.1';
  if (config.ftp.pasvUrl) return config.ftp.pasvUrl;
  const pub = config.publicUrl ? ipv4Of(new URL(config.publicUrl).hostname) : undefined;
  return pub ?? (local && local !== '0.0.0.0' ? local : undefined) ?? firstLanAddress();
}

type Command = { directive: string; arg: string | null };
interface Commands {
  parse(message: string): Command;
  handle(command: string | Command): unknown;
}
/** ftp-srv's connector: passive (a listener and its socket), active (a socket), or the empty base one. */
interface Connector {
  dataServer?: Server | null;
  end?(): void;
}
type Guarded = FtpConnection & { commands: Commands; commandSocket: Socket; authenticated?: boolean; connector?: Connector };

/** Per client address: open control connections and passive listeners (issue 13, defect 4). */
interface PerAddress {
  connections: Map<string, number>;
  passive: Map<string, number>;
  add(m: Map<string, number>, address: string): number;
  remove(m: Map<string, number>, address: string): void;
}

function perAddressCounts(): PerAddress {
  return {
    connections: new Map(),
    passive: new Map(),
    add: (m, a) => {
      const n = (m.get(a) ?? 0) + 1;
      m.set(a, n);
      return n;
    },
    remove: (m, a) => {
      const n = (m.get(a) ?? 1) - 1;
      if (n > 0) m.set(a, n);
      else m.delete(a);
    },
  };
}

/**
 * Closes a control connection that stays silent: `loginSeconds` before login, `idleSeconds` after, but never
 * while a transfer runs (the control connection is quiet then). ftp-srv's own 'timeout' handler closes
 * unconditionally, so it is replaced.
 */
function idleTimeout(c: Guarded, log: Logger): (seconds: number) => void {
  const socket = c.commandSocket;
  socket.removeAllListeners('timeout');
  socket.on('timeout', () => {
    const data = dataSocketOf(c);
    if (data && !data.destroyed) return socket.setTimeout(socket.timeout ?? 0); // busy: wait another period
    log.debug({ ip: clientAddress(socket.remoteAddress), authenticated: !!c.authenticated }, 'FTP control connection idle: closed');
    closeWith421(socket, 'Timeout: closing control connection');
  });
  return (seconds) => void socket.setTimeout(seconds * 1000);
}

/** RFC 959's 421: the reply, then the control connection closes (its transfers with it). */
function closeWith421(socket: Socket, text: string): void {
  socket.end(`421 ${text}\r\n`, () => socket.destroy());
}

const CLOSING = 'Service closing, try again later';

/**
 * Commands that start something new: refused (421) once the server is shutting down, so the grace covers
 * the downloads in flight, not ones a client logged in earlier starts during it. NOOP, ABOR, STAT and the
 * like still pass: a client may send them while its download finishes.
 */
const STARTS_WORK = new Set(['USER', 'PASS', 'PASV', 'EPSV', 'PORT', 'EPRT', 'RETR', 'LIST', 'NLST', 'MLSD']);

/** Commands that set up a data connection: each one replaces the connection's connector. */
const DATA_SETUP = new Set(['PASV', 'EPSV', 'PORT', 'EPRT']);

/**
 * Ends the connection's data connector before a new one replaces it. ftp-srv 4.6.3 never does: each PASV
 * left its listener open for 30 s, so one client could hold the whole passive port range. The old
 * listener's 'close' handler is dropped first: it would call end() again later, and end() resets
 * connection.connector — by then the new connector.
 */
function retireConnector(c: Guarded): void {
  const old = c.connector;
  if (!old) return;
  const server = old.dataServer;
  const listening = server?.listening === true;
  server?.removeAllListeners('close');
  old.end?.();
  // The per-address count of passive listeners (its 'close' listener was just removed with ftp-srv's).
  if (server && listening) server.emit('aps-retired');
}

/** Listen attempts for one PASV/EPSV when the port found free is taken before the listener binds it. */
const PASSIVE_LISTEN_TRIES = 5;

/** Per control connection, the passive listen in progress: told the errors ftp-srv reports for its listener. */
type ListenFailures = Map<FtpConnection, (err: Error) => void>;

/**
 * A new passive listener for one PASV/EPSV. ftp-srv 4.6.3 checks that a port is free, closes the check and
 * only then listens on it: another process (or another server in this one) can bind the port in between,
 * and that listen error goes to ftp-srv's 'client-error' event only (which startFtpServer passes on through
 * `failures`), so setupServer() never settles and the PASV is never answered. Such an error ends this
 * attempt here, and the range's next port is tried.
 */
async function listenPassive(c: Guarded, Passive: PassiveConnectorClass, failures: ListenFailures): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const connector = new Passive(c);
    c.connector = connector as Connector;
    let server: Server;
    try {
      server = await new Promise<Server>((resolve, reject) => {
        failures.set(c, (err) => {
          const listener = (connector as Connector).dataServer;
          if (listener && !listener.listening) reject(err);
        });
        connector.setupServer().then(resolve, reject);
      });
    } catch (err) {
      retireConnector(c);
      const gone = c.commandSocket.destroyed;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= PASSIVE_LISTEN_TRIES || gone) throw err;
      continue;
    } finally {
      failures.delete(c);
    }
    // The control connection closed while this listener was set up: ftp-srv's close ended the connector of that
    // moment, before it had a listener, and this one would stay open (and counted) for ftp-srv's 30 s.
    if (c.commandSocket.destroyed) {
      (connector as Connector).end?.();
      throw new FtpRefusal('Control connection closed', true);
    }
    return server;
  }
}

/** Whether the control connection is IPv6 (not an IPv4 client, IPv4-mapped addresses included). */
const isIpv6Client = (c: Guarded): boolean => !!c.commandSocket.remoteAddress && !ipv4Of(c.commandSocket.remoteAddress);

/**
 * Wraps one connection's command dispatch: commands ftp-srv 4.6.3 would crash on without an argument get
 * a 501, PASV and EPSV are answered here (the per-connection PASV address, no leaked listeners, RFC 2428
 * for IPv6 clients), and any handler that throws or rejects gets a reply instead of leaving the session
 * hanging. Throws only while installing, when ftp-srv's connection does not have the expected shape.
 */
function guardCommands(
  config: ApsConfig,
  connection: FtpConnection,
  log: Logger,
  Passive: PassiveConnectorClass,
  perAddress: PerAddress,
  closing: () => boolean,
  listenFailures: ListenFailures,
): void {
  const c = connection as Guarded;
  if (typeof c.commands?.handle !== 'function' || typeof c.commands.parse !== 'function' || !c.commandSocket) {
    throw new Error('ftp-srv connection has no commands.handle/parse or commandSocket');
  }
  const handle = c.commands.handle.bind(c.commands);
  // RFC 2428: after "EPSV ALL" the client uses EPSV only; the server refuses other data-connection setups.
  let epsvAll = false;
  const address = clientAddress(c.commandSocket.remoteAddress) ?? '';
  /** The port of a new passive listener, or undefined when this address already holds its share of them. */
  const setUpPassive = async (): Promise<number | undefined> => {
    retireConnector(c);
    // One client must not hold the passive port range: its listeners are counted until each closes.
    if ((perAddress.passive.get(address) ?? 0) >= config.ftp.maxPassivePerAddress) {
      log.info({ ip: address, max: config.ftp.maxPassivePerAddress }, 'FTP passive listener refused: too many from this address');
      return undefined;
    }
    const server = await listenPassive(c, Passive, listenFailures);
    perAddress.add(perAddress.passive, address);
    let counted = true;
    const uncount = (): void => {
      if (counted) perAddress.remove(perAddress.passive, address);
      counted = false;
    };
    server.once('close', uncount);
    server.once('aps-retired', uncount);
    return (server.address() as { port: number }).port;
  };
  // One passive setup at a time per connection. ftp-srv handles each read of the socket at once: a PASV sent
  // again before its answer retired a connector that had no listener yet, whose listener then stayed open
  // and counted for ftp-srv's 30 s, and took over the listen-failure hook of the setup still running.
  let settingUp: Promise<unknown> = Promise.resolve();
  const passive = (): Promise<number | undefined> => {
    const next = settingUp.then(setUpPassive, setUpPassive);
    settingUp = next.catch(() => undefined);
    return next;
  };
  const tooMany = (): Promise<unknown> => c.reply(425, 'Too many passive connections from your address');
  c.commands.handle = async (raw: string | Command): Promise<unknown> => {
    let cmd: Command;
    try {
      cmd = typeof raw === 'string' ? c.commands.parse(raw) : raw;
    } catch {
      return c.reply(500, 'Syntax error');
    }
    if (closing() && STARTS_WORK.has(cmd.directive)) {
      log.debug({ ip: address, directive: cmd.directive }, 'FTP command refused: shutting down');
      return closeWith421(c.commandSocket, CLOSING);
    }
    try {
      if (NEEDS_ARG.has(cmd.directive) && !cmd.arg?.trim()) return await c.reply(501, `Syntax error: ${cmd.directive} needs an argument`);
      if (!DATA_SETUP.has(cmd.directive) || !c.authenticated) return await handle(cmd);
      if (epsvAll && cmd.directive !== 'EPSV') return await c.reply(503, `${cmd.directive} refused after EPSV ALL: use EPSV`);
      if (cmd.directive === 'PASV') {
        // PASV can only carry an IPv4 address (RFC 959); an IPv6 client must use EPSV (RFC 2428).
        if (isIpv6Client(c)) return await c.reply(522, 'PASV cannot describe an IPv6 address: use EPSV (RFC 2428)');
        const port = await passive();
        if (port === undefined) return await tooMany();
        const host = pasvAddress(config, c.commandSocket).replace(/\./g, ',');
        return await c.reply(227, `Entering Passive Mode (${host},${port >> 8},${port & 255})`);
      }
      if (cmd.directive === 'EPSV') {
        const arg = cmd.arg?.trim().toUpperCase();
        if (arg === 'ALL') {
          epsvAll = true;
          return await c.reply(200, 'EPSV ALL accepted');
        }
        // The data connection goes to the control connection's address: only its own protocol works.
        const own = isIpv6Client(c) ? '2' : '1';
        if (arg && arg !== own) return await c.reply(522, `Network protocol not supported, use (${own})`);
        const port = await passive();
        if (port === undefined) return await tooMany();
        return await c.reply(229, `Entering Extended Passive Mode (|||${port}|)`);
      }
      // PORT and EPRT: ftp-srv's own handlers, once the previous connector is gone.
      retireConnector(c);
      return await handle(cmd);
    } catch (err) {
      // A client that hung up meanwhile (its PASV given up) is no server fault, and has nobody to answer.
      if (c.commandSocket.destroyed)
        return log.debug({ directive: cmd.directive, err: (err as Error).message }, 'FTP command of a gone client ended');
      log.warn({ directive: cmd.directive, err: (err as Error).message }, 'FTP command failed');
      return c.reply(cmd.directive === 'PASV' || cmd.directive === 'EPSV' ? 425 : 501, `${cmd.directive} failed`);
    }
  };
}

/** What the FTP server shares with the HTTP paths: the failure tracking and the rate-limited refusal log. */
export interface FtpAccess {
  guard: Pick<AccessGuard, 'attempt'>;
  refusals: Pick<RefusalLog, 'note'>;
}

/** One ftp-srv for all adapters: a login is offered to each adapter's resolver; the first view wins. */
export async function startFtpServer(
  config: ApsConfig,
  resolvers: readonly Resolver[],
  log: Logger,
  access: FtpAccess,
): Promise<FtpServerHandle> {
  checkFtpSrvVersion();
  const Passive = requireCjs('ftp-srv/src/connector/passive') as PassiveConnectorClass;
  const server = new FtpSrv({
    url: `ftp://${urlHost(config.http.host)}:${config.ftp.port}`,
    // PASV is answered per connection by guardCommands (pasvAddress); this only keeps ftp-srv's own
    // handler, never reached, and its start-up warning quiet.
    pasv_url: config.ftp.pasvUrl ?? '127.0.0.1',
    pasv_min: config.ftp.pasvMin,
    pasv_max: config.ftp.pasvMax,
    anonymous: config.ftp.anonymous,
    blacklist: [...FTP_BLACKLIST],
    greeting: 'APS provisioning server (read-only)',
    log: ftpSrvLog(log) as unknown as object,
  });
  // 'connect' fires before the greeting, while the socket is still paused: no command escapes the guard.
  // This listener runs inside ftp-srv's connection handler, where a throw is an uncaught exception: if the
  // guard cannot be installed, the connection is closed (421) and logged, and the server keeps running.
  const perAddress = perAddressCounts();
  const listenFailures: ListenFailures = new Map();
  const transfers: Transfers = {
    active: new Set(),
    rate: { minBytesPerSecond: config.http.minSendRate, graceMs: config.http.minSendRateGraceSeconds * 1000 },
  };
  let draining = false;
  const idle = new WeakMap<FtpConnection, (seconds: number) => void>();
  (server as unknown as import('node:events').EventEmitter).on('connect', ({ connection }: { connection: FtpConnection }) => {
    try {
      const socket = (connection as Guarded).commandSocket;
      const address = clientAddress(socket.remoteAddress) ?? '';
      if (draining) {
        closeWith421(socket, CLOSING);
        return;
      }
      const held = perAddress.add(perAddress.connections, address);
      socket.once('close', () => perAddress.remove(perAddress.connections, address));
      if (held > config.ftp.maxConnectionsPerAddress) {
        log.info({ ip: address, max: config.ftp.maxConnectionsPerAddress }, 'FTP connection refused: too many from this address');
        closeWith421(socket, 'Too many connections from your address');
        return;
      }
      guardCommands(config, connection, log, Passive, perAddress, () => draining, listenFailures);
      const setIdle = idleTimeout(connection as Guarded, log);
      setIdle(config.ftp.loginSeconds);
      idle.set(connection, setIdle);
    } catch (err) {
      log.error({ err: (err as Error).message, ftpSrv: installedFtpSrvVersion() }, 'FTP: cannot guard the connection, closing it');
      try {
        const socket = (connection as unknown as { commandSocket?: Socket }).commandSocket;
        if (socket) closeWith421(socket, 'Service not available, closing control connection');
      } catch {
        // nothing more to close
      }
    }
  });
  server.on('login', ({ connection, username, password }, resolve, reject) => {
    // ftp-srv drops what a listener returns: an error escaping the async body refuses this login rather than
    // becoming an unhandled rejection.
    (async (): Promise<void> => {
      // The core's switch is the master: with ftp.anonymous off, no adapter is asked about an anonymous
      // login (ftp-srv hands "anonymous" with any password to this listener when its own option is off).
      // Refusals are normal traffic: info lines, past a few a minute from one address only summed up.
      const refused = (reason: string): void => {
        if (access.refusals.note({ adapter: 'ftp', ip: connection.ip, status: 530, reason }))
          log.info({ username, ip: connection.ip, reason }, 'FTP login refused');
        reject(new FtpRefusal('Login incorrect', true));
      };
      if (username === 'anonymous' && !config.ftp.anonymous) return refused('anonymous FTP is disabled');
      // An address that is backing off or locked is refused before any adapter checks a password; each
      // adapter's password check (ctx.access.login) counts the failures.
      const early = access.guard.attempt({ adapter: 'ftp', deviceId: null, ip: connection.ip });
      early.done(null);
      if (early.held) return refused(early.held);
      const login = { username, password, ip: connection.ip };
      try {
        for (const r of resolvers) {
          const view = await r(login);
          if (view) {
            idle.get(connection)?.(config.ftp.idleSeconds);
            return resolve({ fs: new ViewFs(connection, view, log, transfers) });
          }
        }
      } catch (e) {
        log.error({ err: e, username }, 'FTP login failed');
      }
      refused('no device accepted the login');
    })().catch((e: unknown) => {
      log.error({ err: e, username }, 'FTP login failed');
      reject(new FtpRefusal('Login incorrect', true));
    });
  });
  server.on('client-error', ({ connection, context, error }) => {
    log.debug({ context, err: error.message }, 'FTP client error');
    if (context === 'dataServer') listenFailures.get(connection)?.(error);
  });
  await server.listen();
  const addr = (server as unknown as { server: import('node:net').Server }).server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.ftp.port;
  return {
    port,
    async close(graceMs = 0): Promise<number> {
      draining = true; // new control connections get 421 from now on
      const deadline = Date.now() + graceMs;
      while (transfers.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const cut = transfers.active.size;
      await server.close();
      return cut;
    },
  };
}
