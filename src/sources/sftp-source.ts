import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type SftpClient from 'ssh2-sftp-client';
import { isSafeFilename } from '../catalog/catalog.ts';
import { importFile, slotShas, type FolderImportOptions } from '../catalog/folder-import.ts';
import { ApsError } from '../errors.ts';
import { finishRun, type SourceDeps, type SourceFileResult, type SourceRunResult } from './result.ts';
import type { SftpSourceConfig } from './source-config.ts';

/** What was imported under a remote name, so an unchanged listing entry is not fetched again. */
interface Remembered {
  size: number;
  mtime: number;
  sha256: string;
}

// Hosts already warned about in this process: one warning per host, not one per scheduled run.
const warnedUnpinned = new Set<string>();

/** The OpenSSH form of a host key fingerprint: `SHA256:` and unpadded base64 of the key blob's sha256. */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function normalizePin(pin: string): string {
  return `SHA256:${pin.replace(/^SHA256:/, '').replace(/=+$/, '')}`;
}

/**
 * Mirrors one remote folder into the catalog: lists it, fetches each regular file not imported yet into a
 * temp file under the data folder, and adds it (origin `sftp:<name>`). Never throws for remote trouble:
 * a connection failure is the run's `error`, a bad file is that file's result.
 */
export async function syncSftpSource(src: SftpSourceConfig, deps: SourceDeps): Promise<SourceRunResult> {
  const startedAt = new Date();
  const log = deps.log.child({ source: src.name, host: src.host, port: src.port });
  const files: SourceFileResult[] = [];
  const endpoint = `${src.host}:${src.port}`;
  let offered: string | null = null;
  // Loaded here, not at the top: ssh2 costs every `aps` command and server start ~0.1-0.25 s to import,
  // and only an SFTP sync uses it.
  const { default: SftpClientClass } = await import('ssh2-sftp-client');
  const client = new SftpClientClass(`aps-source-${src.name}`, {
    // The library's default listeners print to the console; route them to the log instead.
    error: (e) => log.debug({ err: (e as Error).message }, 'sftp connection error'),
    end: () => {},
    close: () => {},
  });
  // ssh2-sftp-client's end() does nothing until the SFTP channel is open; ending the ssh2 connection
  // itself also stops a handshake or a stalled read, so shutdown never waits on a silent server.
  const onAbort = (): void => (client as unknown as { client: { end(): void } }).client.end();
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  let lost = false;
  try {
    if (deps.signal?.aborted) throw new ApsError('conflict', 'run cancelled');
    const channel = await client.connect({
      host: src.host,
      port: src.port,
      username: src.username,
      password: src.password,
      privateKey: src.privateKeyFile ? readKey(src.privateKeyFile) : undefined,
      readyTimeout: 20_000,
      // A silent peer is detected in about 30 s instead of a download hanging until TCP gives up.
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer): boolean => {
        offered = hostKeyFingerprint(key);
        if (src.hostKeySha256) return offered === normalizePin(src.hostKeySha256);
        if (!warnedUnpinned.has(endpoint)) {
          warnedUnpinned.add(endpoint);
          log.warn({ fingerprint: offered }, 'sftp host key is not pinned; set hostKeySha256 to this fingerprint to refuse impostors');
        }
        return true;
      },
    });
    channel.once('close', () => (lost = true));
  } catch (e) {
    await endQuietly(client);
    deps.signal?.removeEventListener('abort', onAbort);
    const error = connectError(src, e, offered);
    log.error({ err: error }, 'sftp source: cannot connect');
    return finishRun(src.name, 'sftp', startedAt, files, error);
  }

  let error: string | undefined;
  try {
    const tmpDir = join(deps.dataDir, 'sources', 'tmp');
    // Named `<pid>-…`: one a killed run leaves is removed by sweepLeftovers (src/data-folder.ts).
    mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
    const entries = (await client.list(src.path))
      .filter((f) => f.type === '-' && !f.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const opts: FolderImportOptions = {
      profile: src.profile,
      kind: src.kind,
      role: src.role,
      models: src.models,
      origin: `sftp:${src.name}`,
    };
    const known = slotShas(deps.catalog, opts);
    for (const f of entries) {
      if (deps.signal?.aborted) throw new ApsError('conflict', 'run cancelled');
      const key = `${src.name}/${f.name}`;
      if (!isSafeFilename(f.name)) {
        files.push({ file: f.name, status: 'skipped', reason: 'file name is not acceptable as an artifact name' });
        continue;
      }
      if (f.size > src.maxBytes) {
        log.warn({ file: f.name, size: f.size, maxBytes: src.maxBytes }, 'sftp source: file larger than maxBytes, skipped');
        files.push({ file: f.name, status: 'skipped', reason: `${f.size} bytes is more than maxBytes ${src.maxBytes}` });
        continue;
      }
      const seen = deps.state.get<Remembered>(key);
      if (seen && seen.size === f.size && seen.mtime === f.modifyTime && known.has(seen.sha256)) {
        files.push({ file: f.name, status: 'unchanged', downloaded: 0 });
        continue;
      }
      const tmp = join(tmpDir, `${process.pid}-${src.name}.${randomBytes(6).toString('hex')}.part`);
      try {
        const bytes = await download(client, posix.join(src.path, f.name), tmp, src.maxBytes);
        // A size that differs from the listing means the upstream file is still being written: retry next run.
        if (bytes !== f.size) throw new Error(`size changed during download (${f.size} listed, ${bytes} read)`);
        const r = await importFile(deps.catalog, tmp, f.name, opts, known);
        if (r.status === 'skipped') {
          files.push({ file: f.name, status: 'skipped', reason: r.reason, downloaded: bytes });
          continue;
        }
        deps.state.set(key, { size: f.size, mtime: f.modifyTime, sha256: r.sha256 } satisfies Remembered);
        if (r.status === 'added') {
          log.info({ file: f.name, artifact: r.artifact.id, version: r.artifact.version, size: bytes }, 'sftp source: artifact added');
          files.push({ file: f.name, status: 'added', artifactId: r.artifact.id, version: r.artifact.version, downloaded: bytes });
        } else {
          files.push({ file: f.name, status: 'unchanged', downloaded: bytes });
        }
      } catch (e) {
        const reason = deps.signal?.aborted ? 'run cancelled' : cleanMessage(e);
        log.warn({ file: f.name, reason }, 'sftp source: download failed');
        files.push({ file: f.name, status: 'failed', reason });
        // A dead connection fails every later file the same way: report it once as the run's error.
        if (lost || deps.signal?.aborted)
          throw new ApsError('conflict', deps.signal?.aborted ? 'run cancelled' : `connection to ${endpoint} lost`);
      } finally {
        await rm(tmp, { force: true });
      }
    }
    // Forget files that left the upstream folder, so the remembered state stays the size of the listing.
    const listed = new Set(entries.map((f) => `${src.name}/${f.name}`));
    for (const { key } of deps.state.entries(`${src.name}/`)) if (!listed.has(key)) deps.state.delete(key);
  } catch (e) {
    error = `sftp source "${src.name}": ${cleanMessage(e)}`;
    log.error({ err: error }, 'sftp source: run failed');
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    await endQuietly(client);
  }
  return finishRun(src.name, 'sftp', startedAt, files, error);
}

/**
 * Streams one remote file to a local temp file, failing (never truncating silently) past `maxBytes`.
 * The temp file is created before the first remote byte is asked for, and this returns only once the file
 * stream has closed (on failure too): pipeline() rejects on the first error without waiting for the other
 * streams, and a write stream still opening would create the file after the caller's rm() (a `.part` left
 * behind under load).
 */
async function download(client: SftpClient, remote: string, local: string, maxBytes: number): Promise<number> {
  let bytes = 0;
  const bound = new Transform({
    transform(chunk: Buffer, _enc, cb): void {
      bytes += chunk.length;
      cb(bytes > maxBytes ? new Error(`more than maxBytes ${maxBytes}`) : null, chunk);
    },
  });
  const file = await open(local, 'wx', 0o600);
  const out = file.createWriteStream();
  const closed = new Promise<void>((resolve) => (out.closed ? resolve() : out.once('close', () => resolve())));
  try {
    await pipeline(client.createReadStream(remote), bound, out);
  } finally {
    out.destroy();
    await closed;
  }
  return bytes;
}

// end() waits for a 'close' that never comes when the connection is already gone: bound the wait.
async function endQuietly(client: SftpClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([client.end().catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, 2_000)))]);
  clearTimeout(timer);
}

function readKey(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ApsError('invalid_config', `privateKeyFile ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function cleanMessage(e: unknown): string {
  // ssh2-sftp-client prefixes its method name ("getConnection: ", "list: "); the caller says what failed.
  return (e instanceof Error ? e.message : String(e)).replace(/^[A-Za-z_]+(?::|->)\s*/, '');
}

function connectError(src: SftpSourceConfig, e: unknown, offered: string | null): string {
  const at = `sftp source "${src.name}" (${src.host}:${src.port})`;
  if (e instanceof ApsError) return `${at}: ${e.message}`;
  if (src.hostKeySha256 && offered && offered !== normalizePin(src.hostKeySha256)) {
    return `${at}: host key mismatch: the server offered ${offered} but hostKeySha256 pins ${normalizePin(src.hostKeySha256)}; refusing to connect`;
  }
  const code = (e as NodeJS.ErrnoException).code;
  const msg = cleanMessage(e);
  if (/authentication methods failed/i.test(msg)) return `${at}: authentication failed for user "${src.username}"`;
  if (code === 'ECONNREFUSED') return `${at}: connection refused`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${at}: host not found`;
  if (/timed out/i.test(msg)) return `${at}: no SSH handshake within 20 s`;
  return `${at}: ${msg}`;
}
