import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { FileSystem, FtpSrv, type FtpConnection } from 'ftp-srv';
import type { ApsConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { FtpEntry, FtpResolver as Resolver, FtpView } from './ftp-mount.ts';

export interface FtpServerHandle {
  port: number;
  close(): Promise<void>;
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

/**
 * A read-only virtual file system over an adapter's view. It never touches a real path on behalf of a
 * client, and every error message names only virtual paths: ftp-srv 4.6.3 copies err.message into its
 * 550/551 replies, which with its default file system reveals the server's absolute paths.
 */
class ViewFs extends FileSystem {
  private dir = '/';
  private readonly view: FtpView;

  constructor(connection: FtpConnection, view: FtpView) {
    super(connection, { root: '/', cwd: '/' });
    this.view = view;
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
    if (!e) throw new Error('No such file or directory');
    return toStat(e);
  }

  override async list(path?: string): Promise<StatLike[]> {
    const entries = this.view.list(this.abs(path));
    if (!entries) throw new Error('No such directory');
    return entries.map(toStat);
  }

  override async chdir(path?: string): Promise<string> {
    const p = this.abs(path);
    if (!this.view.list(p)) throw new Error('No such directory');
    this.dir = p;
    return p;
  }

  override async read(fileName: string, opts?: { start?: number }): Promise<{ stream: Readable; clientPath: string }> {
    const p = this.abs(fileName);
    const e = this.view.stat(p);
    if (!e || e.isDirectory || !e.body) throw new Error('No such file');
    const start = Math.max(0, Number(opts?.start) || 0);
    const source = 'bytes' in e.body ? Readable.from([e.body.bytes.subarray(start)]) : createReadStream(e.body.path, { start });
    // The PassThrough hides the blob path: ftp-srv reports stream.path and error messages to clients.
    const out = new PassThrough();
    source.on('error', () => out.destroy(new Error('Read failed')));
    let bytes = 0;
    source.on('data', (c: Buffer) => (bytes += c.length));
    source.on('end', () => this.view.onDownload?.(p, bytes));
    source.pipe(out);
    return { stream: out, clientPath: p };
  }

  override write(): never {
    throw new Error('Permission denied: read-only server');
  }
  override async delete(): Promise<never> {
    throw new Error('Permission denied: read-only server');
  }
  override async mkdir(): Promise<never> {
    throw new Error('Permission denied: read-only server');
  }
  override async rename(): Promise<never> {
    throw new Error('Permission denied: read-only server');
  }
  override async chmod(): Promise<never> {
    throw new Error('Permission denied: read-only server');
  }
}

/** One ftp-srv for all adapters: a login is offered to each adapter's resolver; the first view wins. */
export async function startFtpServer(config: ApsConfig, resolvers: readonly Resolver[], log: Logger): Promise<FtpServerHandle> {
  const host = config.http.host;
  const pasvHost = config.ftp.pasvUrl ?? (['0.0.0.0', '::'].includes(host) ? '127.0.0.1' : host);
  const server = new FtpSrv({
    url: `ftp://${host}:${config.ftp.port}`,
    pasv_url: pasvHost,
    pasv_min: config.ftp.pasvMin,
    pasv_max: config.ftp.pasvMax,
    anonymous: config.ftp.anonymous,
    greeting: 'APS provisioning server (read-only)',
    log: log as unknown as object,
  });
  server.on('login', async ({ connection, username, password }, resolve, reject) => {
    // The core's switch is the master: with ftp.anonymous off, no adapter is asked about an anonymous
    // login (ftp-srv hands "anonymous" with any password to this listener when its own option is off).
    if (username === 'anonymous' && !config.ftp.anonymous) {
      log.warn({ username, ip: connection.ip }, 'FTP login refused: anonymous FTP is disabled');
      return reject(new Error('Login incorrect'));
    }
    const login = { username, password, ip: connection.ip };
    try {
      for (const r of resolvers) {
        const view = await r(login);
        if (view) return resolve({ fs: new ViewFs(connection, view) });
      }
    } catch (e) {
      log.error({ err: e, username }, 'FTP login failed');
    }
    log.warn({ username, ip: connection.ip }, 'FTP login refused');
    reject(new Error('Login incorrect'));
  });
  server.on('client-error', ({ context, error }) => log.debug({ context, err: error.message }, 'FTP client error'));
  await server.listen();
  const addr = (server as unknown as { server: import('node:net').Server }).server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.ftp.port;
  return {
    port,
    async close(): Promise<void> {
      await server.close();
    },
  };
}
