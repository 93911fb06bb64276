import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, posix } from 'node:path';
import ssh2 from 'ssh2';
import type { Attributes, Connection, FileEntry, SFTPWrapper } from 'ssh2';

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

export interface TestSftpServer {
  port: number;
  /** The host key fingerprint as `ssh-keygen -l` prints it: `SHA256:<base64, no padding>`. */
  fingerprint: string;
  /** Remote paths a READ was served for, one entry per READ request. */
  reads: string[];
  /** When set, the connection is dropped on the first READ of this remote path, after sending part of it. */
  dropOnRead: string | null;
  /** When set, READs of this remote path are never answered: a stalled upstream. */
  stallOnRead: string | null;
  /** Connections accepted so far (authenticated or not). */
  connections: number;
  close(): Promise<void>;
}

function attrsOf(st: Stats): Attributes {
  return { mode: st.mode, uid: 0, gid: 0, size: st.size, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) };
}

function longname(name: string, st: Stats): string {
  return `${st.isDirectory() ? 'd' : '-'}rw-r--r--    1 0        0        ${String(st.size).padStart(8)} Jan  1 00:00 ${name}`;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  return timingSafeEqual(x, createHash('sha256').update(b).digest());
}

/**
 * A fresh ed25519 host key that ssh2 can read back. ssh2 1.17's generator strips leading zero bytes from
 * the public key, so about 1 key in 256 comes out malformed and `parseKey` (and the server's own host-key
 * parse) refuses it (mscdex/ssh2#1513, open). A new key is drawn until one parses; 8 draws all failing
 * would be a 1 in 10^19 event, so the error thrown then names the bug rather than looping on.
 */
export function hostKey(): { key: { private: string }; parsed: ssh2.ParsedKey } {
  let last: Error | null = null;
  for (let i = 0; i < 8; i++) {
    const key = utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(key.public);
    const priv = utils.parseKey(key.private);
    if (!(parsed instanceof Error) && !(priv instanceof Error)) return { key, parsed };
    last = parsed instanceof Error ? parsed : (priv as Error);
  }
  throw new Error(`ssh2 generated 8 unreadable ed25519 host keys in a row (mscdex/ssh2#1513): ${last?.message}`);
}

/**
 * A read-only SFTP server over a local folder, in-process, on 127.0.0.1 with an ephemeral port: a real
 * ssh2 protocol peer for the source tests. Paths are confined to the root (normalised as absolute POSIX).
 */
export async function startSftpServer(root: string, user: string, password: string): Promise<TestSftpServer> {
  const { key, parsed } = hostKey();
  const fingerprint = `SHA256:${createHash('sha256').update(parsed.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
  const clients = new Set<Connection>();
  const state: ServerState = { reads: [], dropOnRead: null, stallOnRead: null, connections: 0 };

  const server = new Server({ hostKeys: [key.private] }, (client) => {
    state.connections++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === user && sameSecret(ctx.password, password)) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), root, state, () => client.end()));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    fingerprint,
    get reads(): string[] {
      return state.reads;
    },
    get dropOnRead(): string | null {
      return state.dropOnRead;
    },
    set dropOnRead(v: string | null) {
      state.dropOnRead = v;
    },
    get stallOnRead(): string | null {
      return state.stallOnRead;
    },
    set stallOnRead(v: string | null) {
      state.stallOnRead = v;
    },
    get connections(): number {
      return state.connections;
    },
    async close(): Promise<void> {
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface ServerState {
  reads: string[];
  dropOnRead: string | null;
  stallOnRead: string | null;
  connections: number;
}

type Handle = { kind: 'file'; fd: number; path: string } | { kind: 'dir'; path: string; done: boolean };

function serveSftp(sftp: SFTPWrapper, root: string, state: ServerState, drop: () => void): void {
  const handles = new Map<number, Handle>();
  let next = 0;
  const remote = (p: string): string => posix.normalize(posix.join('/', p));
  const local = (p: string): string => join(root, remote(p));
  const handleOf = (buf: Buffer): Handle | undefined => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);
  const newHandle = (h: Handle): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(++next, 0);
    handles.set(next, h);
    return b;
  };
  const stat = (reqid: number, p: string): void => {
    try {
      sftp.attrs(reqid, attrsOf(statSync(local(p))));
    } catch {
      sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    }
  };

  sftp.on('REALPATH', (reqid, p) => sftp.name(reqid, [{ filename: remote(p), longname: '', attrs: {} as Attributes }]));
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('OPENDIR', (reqid, p) => {
    try {
      if (!statSync(local(p)).isDirectory()) throw new Error('not a folder');
      sftp.handle(reqid, newHandle({ kind: 'dir', path: remote(p), done: false }));
    } catch {
      sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    }
  });
  sftp.on('READDIR', (reqid, hb) => {
    const h = handleOf(hb);
    if (!h || h.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE);
    if (h.done) return sftp.status(reqid, STATUS_CODE.EOF);
    h.done = true;
    const entries: FileEntry[] = readdirSync(local(h.path)).map((name) => {
      const st = statSync(join(local(h.path), name));
      return { filename: name, longname: longname(name, st), attrs: attrsOf(st) };
    });
    sftp.name(reqid, entries);
  });
  sftp.on('OPEN', (reqid, p, flags) => {
    // Read-only: any write flag is refused.
    if (flags !== (OPEN_MODE.READ as number)) return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
    try {
      const fd = openSync(local(p), 'r');
      sftp.handle(reqid, newHandle({ kind: 'file', fd, path: remote(p) }));
    } catch {
      sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    }
  });
  sftp.on('READ', (reqid, hb, offset, len) => {
    const h = handleOf(hb);
    if (!h || h.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE);
    state.reads.push(h.path);
    if (state.stallOnRead === h.path) return;
    const buf = Buffer.alloc(Math.min(len, 32 * 1024));
    const n = readSync(h.fd, buf, 0, buf.length, offset);
    if (n === 0) return sftp.status(reqid, STATUS_CODE.EOF);
    if (state.dropOnRead === h.path) {
      // Send a first slice, then cut the connection: the client holds a partial file.
      state.dropOnRead = null;
      sftp.data(reqid, buf.subarray(0, Math.min(n, 1024)));
      setImmediate(drop);
      return;
    }
    sftp.data(reqid, buf.subarray(0, n));
  });
  sftp.on('FSTAT', (reqid, hb) => {
    const h = handleOf(hb);
    if (!h || h.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE);
    sftp.attrs(reqid, attrsOf(fstatSync(h.fd)));
  });
  sftp.on('CLOSE', (reqid, hb) => {
    const h = handleOf(hb);
    if (!h) return sftp.status(reqid, STATUS_CODE.FAILURE);
    if (h.kind === 'file') closeSync(h.fd);
    handles.delete(hb.readUInt32BE(0));
    sftp.status(reqid, STATUS_CODE.OK);
  });
  sftp.on('close', () => {
    for (const h of handles.values()) if (h.kind === 'file') closeSync(h.fd);
    handles.clear();
  });
}
