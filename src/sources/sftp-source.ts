import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type SftpClient from 'ssh2-sftp-client';
import { ApsError } from '../errors.ts';
import type { SourceDeps, SyncOutcome } from './result.ts';
import type { SftpSourceConfig } from './source-config.ts';
import { cleanMessage, syncEntries, type SourceReader } from './source-sync.ts';

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
 * Mirrors one remote folder into the catalog (source-sync.ts does the mapping, checksums and adding): connects,
 * lists the folder's regular, non-hidden files and streams the ones a run fetches. Never throws for remote
 * trouble: a connection failure is the outcome's `error`, a bad file is that file's result.
 */
export async function syncSftpSource(src: SftpSourceConfig, deps: SourceDeps): Promise<SyncOutcome> {
  const log = deps.log.child({ source: src.name, host: src.host, port: src.port });
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
    const error = deps.signal?.aborted ? `sftp source "${src.name}": run cancelled` : connectError(src, e, offered);
    log.error({ err: error }, 'sftp source: cannot connect');
    return { files: [], error };
  }

  const reader: SourceReader = {
    list: async () =>
      (await client.list(src.path))
        .filter((f) => f.type === '-' && !f.name.startsWith('.'))
        .map((f) => ({ name: f.name, size: f.size, mtime: f.modifyTime })),
    read: (name) => client.createReadStream(posix.join(src.path, name)),
    lost: () => (lost ? `connection to ${endpoint} lost` : undefined),
  };
  try {
    return await syncEntries(src, reader, deps);
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    await endQuietly(client);
  }
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
