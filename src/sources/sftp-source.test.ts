import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSftpServer, type TestSftpServer } from '../../test/helpers/sftp-server.ts';
import { plainRegistry } from '../../test/helpers/registry.ts';
import { tempDir } from '../../test/helpers/server.ts';
import { FsBlobStore } from '../catalog/blob-store.ts';
import { Catalog } from '../catalog/catalog.ts';
import { KvState } from '../kv-state.ts';
import { createLogger } from '../log.ts';
import { openStore, type Store } from '../store/index.ts';
import { finishRun, type SourceDeps, type SourceRunResult } from './result.ts';
import { syncSftpSource } from './sftp-source.ts';
import { sftpSourceSchema, type SftpSourceConfig } from './source-config.ts';

const PASSWORD = 'upstream-Secret-42';

/** The SFTP part of a run, summed up as a run result (the runner adds the record, prune and hooks). */
async function sync(src: SftpSourceConfig, deps: SourceDeps): Promise<SourceRunResult> {
  return finishRun({ id: null, source: src.name, type: 'sftp', trigger: 'cli', startedAt: new Date() }, await syncSftpSource(src, deps));
}

describe('sftp source against a real in-process SFTP server', () => {
  let dir: string;
  let remote: string;
  let server: TestSftpServer;
  let store: Store;
  let deps: SourceDeps;
  const logLines: string[] = [];
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const source = (extra: Partial<SftpSourceConfig> = {}): SftpSourceConfig =>
    sftpSourceSchema.parse({
      name: 'up',
      type: 'sftp',
      host: '127.0.0.1',
      port: server.port,
      username: 'mirror',
      password: PASSWORD,
      hostKeySha256: server.fingerprint,
      path: '/fw',
      profile: 'vop',
      kind: 'firmware',
      ...extra,
    });
  const readsOf = (name: string): number => server.reads.filter((p) => p === `/fw/${name}`).length;
  const tmpLeft = (): string[] => [...readdirSync(join(dir, 'data', 'sources', 'tmp')), ...readdirSync(join(dir, 'data', 'blobs', 'tmp'))];

  before(async () => {
    dir = tempDir('aps-sftp-');
    remote = join(dir, 'remote');
    mkdirSync(join(remote, 'fw', 'old'), { recursive: true });
    writeFileSync(join(remote, 'fw', 'vop-1.0.bin'), randomBytes(100_000));
    writeFileSync(join(remote, 'fw', 'vop-1.1.bin'), 'small firmware');
    writeFileSync(join(remote, 'fw', '.upload-in-progress'), 'x');
    writeFileSync(join(remote, 'fw', 'old', 'vop-0.9.bin'), 'in a sub-folder');
    server = await startSftpServer(remote, 'mirror', PASSWORD);
    store = openStore(join(dir, 'data'));
    const log = createLogger('debug', { write: (s: string) => void logLines.push(s) });
    deps = {
      catalog: new Catalog(store, new FsBlobStore(join(dir, 'data')), plainRegistry(store, join(dir, 'data'))),
      state: new KvState(store, 'sources'),
      dataDir: join(dir, 'data'),
      log,
    };
  });
  after(async () => {
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports every regular file on the first sync, with the same bytes and origin sftp:<name>', async () => {
    const r = await sync(source(), deps);
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(
      r.files.map((f) => [f.file, f.status]),
      [
        ['vop-1.0.bin', 'added'],
        ['vop-1.1.bin', 'added'],
      ],
    );
    const list = deps.catalog.list('vop');
    assert.deepEqual(
      list.map((a) => [a.filename, a.version, a.origin]),
      [
        ['vop-1.0.bin', '1.0', 'sftp:up'],
        ['vop-1.1.bin', '1.1', 'sftp:up'],
      ],
    );
    assert.equal(list[0]!.sha256, sha(readFileSync(join(remote, 'fw', 'vop-1.0.bin'))));
    assert.equal(r.downloadedBytes, 100_000 + 'small firmware'.length);
  });

  it('downloads nothing on a second sync of an unchanged folder (no READ reaches the server)', async () => {
    const reads = server.reads.length;
    const r = await sync(source(), deps);
    assert.equal(r.ok, true, r.error);
    assert.deepEqual([r.added, r.unchanged, r.downloadedBytes], [0, 2, 0]);
    assert.equal(server.reads.length, reads, 'no READ for unchanged files');
  });

  it('imports a new remote file, and only fetches that one', async () => {
    writeFileSync(join(remote, 'fw', 'vop-1.2.bin'), 'newer firmware');
    const reads = server.reads.length;
    const r = await sync(source(), deps);
    assert.deepEqual(
      r.files.filter((f) => f.status === 'added').map((f) => f.file),
      ['vop-1.2.bin'],
    );
    assert.deepEqual([...new Set(server.reads.slice(reads))], ['/fw/vop-1.2.bin']);
    assert.equal(deps.catalog.list('vop').length, 3);
  });

  it('re-fetches a touched file but adds no artifact when its bytes are the same', async () => {
    utimesSync(join(remote, 'fw', 'vop-1.1.bin'), new Date(), new Date(Date.now() + 5_000));
    const before = readsOf('vop-1.1.bin');
    const r = await sync(source(), deps);
    assert.equal(r.added, 0);
    assert.ok(readsOf('vop-1.1.bin') > before, 'a changed mtime is fetched again');
    assert.equal(deps.catalog.list('vop').length, 3);
    const again = server.reads.length;
    await sync(source(), deps);
    assert.equal(server.reads.length, again, 'and remembered afterwards');
  });

  it('skips a file larger than maxBytes without fetching it', async () => {
    writeFileSync(join(remote, 'fw', 'vop-3.0.bin'), randomBytes(60_000));
    const r = await sync(source({ maxBytes: 50_000 }), deps);
    const f = r.files.find((x) => x.file === 'vop-3.0.bin');
    assert.equal(f?.status, 'skipped');
    assert.match(f!.reason!, /maxBytes 50000/);
    assert.equal(readsOf('vop-3.0.bin'), 0);
    assert.ok(!deps.catalog.list('vop').some((a) => a.filename === 'vop-3.0.bin'));
    rmSync(join(remote, 'fw', 'vop-3.0.bin'));
  });

  it('leaves no artifact and no temp file when the server drops mid-download, and recovers next run', async () => {
    writeFileSync(join(remote, 'fw', 'vop-2.0.bin'), randomBytes(300_000));
    server.dropOnRead = '/fw/vop-2.0.bin';
    const r = await sync(source(), deps);
    assert.equal(r.ok, false);
    assert.equal(r.files.find((f) => f.file === 'vop-2.0.bin')?.status, 'failed');
    assert.match(r.error ?? '', /connection to 127\.0\.0\.1:\d+ lost/);
    assert.ok(!deps.catalog.list('vop').some((a) => a.filename === 'vop-2.0.bin'), 'no partial artifact');
    assert.deepEqual(tmpLeft(), [], 'no temp file left behind');
    const again = await sync(source(), deps);
    assert.equal(again.ok, true, again.error);
    assert.deepEqual(
      again.files.filter((f) => f.status === 'added').map((f) => f.file),
      ['vop-2.0.bin'],
    );
    const a = deps.catalog.list('vop').find((x) => x.filename === 'vop-2.0.bin')!;
    assert.equal(a.sha256, sha(readFileSync(join(remote, 'fw', 'vop-2.0.bin'))));
  });

  it('a cancelled run (server shutdown) ends a stalled download at once and leaves nothing behind', async () => {
    writeFileSync(join(remote, 'fw', 'vop-5.0.bin'), randomBytes(50_000));
    server.stallOnRead = '/fw/vop-5.0.bin';
    const abort = new AbortController();
    const running = sync(source(), { ...deps, signal: abort.signal });
    for (const until = Date.now() + 10_000; readsOf('vop-5.0.bin') === 0; await new Promise((r) => setTimeout(r, 10))) {
      assert.ok(Date.now() < until, 'the download never started');
    }
    abort.abort();
    const r = await running;
    server.stallOnRead = null;
    assert.equal(r.ok, false);
    assert.equal(r.files.find((f) => f.file === 'vop-5.0.bin')?.reason, 'run cancelled');
    assert.ok(!deps.catalog.list('vop').some((a) => a.filename === 'vop-5.0.bin'));
    assert.deepEqual(tmpLeft(), []);
    rmSync(join(remote, 'fw', 'vop-5.0.bin'));
  });

  it('reports a wrong password as a clear error, without the password', async () => {
    const r = await sync(source({ password: 'wrong-password-123' }), deps);
    assert.equal(r.ok, false);
    assert.match(r.error!, /^sftp source "up" \(127\.0\.0\.1:\d+\): authentication failed for user "mirror"$/);
    assert.deepEqual(r.files, []);
  });

  it('refuses a server whose host key does not match the pin', async () => {
    const reads = server.reads.length;
    const pin = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    const r = await sync(source({ hostKeySha256: pin }), deps);
    assert.equal(r.ok, false);
    assert.match(r.error!, /host key mismatch: the server offered SHA256:\S+ but hostKeySha256 pins SHA256:BwcH/);
    assert.equal(server.reads.length, reads);
  });

  it('warns once about an unpinned host key, naming its fingerprint', async () => {
    const unpinned = (): SftpSourceConfig => ({ ...source(), hostKeySha256: undefined });
    await sync(unpinned(), deps);
    await sync(unpinned(), deps);
    const warnings = logLines.filter((l) => l.includes('host key is not pinned'));
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(server.fingerprint));
  });

  it('reports a refused connection and a missing remote folder as errors, never a throw', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await sync(source({ port }), deps);
    assert.match(refused.error!, /connection refused$/);
    const missing = await sync(source({ path: '/nope' }), deps);
    assert.equal(missing.ok, false);
    assert.match(missing.error!, /^sftp source "up": .*\/nope/);
  });

  it('forgets remembered files that left the upstream folder', async () => {
    assert.ok(deps.state.get('up/vop-1.2.bin'));
    rmSync(join(remote, 'fw', 'vop-1.2.bin'));
    const r = await sync(source(), deps);
    assert.equal(r.ok, true, r.error);
    assert.equal(deps.state.get('up/vop-1.2.bin'), undefined);
    assert.equal(deps.catalog.list('vop').filter((a) => a.filename === 'vop-1.2.bin').length, 1, 'the artifact itself stays');
  });

  it('never writes the password to the log', () => {
    assert.ok(logLines.length > 0);
    assert.ok(!logLines.some((l) => l.includes(PASSWORD) || l.includes('wrong-password-123')));
  });
});
