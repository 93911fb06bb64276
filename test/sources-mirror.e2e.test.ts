import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SourceRunResult } from '../src/sources/result.ts';
import { rolloutRequests, type SourceRolloutRequest } from '../src/sources/rollout-hook.ts';
import { sourceRunner } from '../src/sources/sync.ts';
import { openStore } from '../src/store/index.ts';
import { apsCli } from './helpers/cli.ts';
import { manualProfiles } from './helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { startSftpServer, type TestSftpServer } from './helpers/sftp-server.ts';

const PASSWORD = 'mirror-Secret-91';
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

/**
 * A vendor mirror end to end: the server's source syncs an in-process SFTP server through the admin API; files
 * are mapped by pattern and by manifest, checked against sidecar and manifest checksums, a cut transfer leaves
 * nothing, prune retires only what is nobody's target, and the history is the same through the API and the CLI.
 */
describe('a vendor mirror: mapping, checksums, cut transfers, prune, history', () => {
  let dir: string;
  let mirror: string;
  let sftp: TestSftpServer;
  let s: TestServer;
  let closed = false;
  const rollouts: SourceRolloutRequest[] = [];
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${s.http}/api/v1${path}`, { ...init, headers: { authorization: s.auth, ...(init.headers ?? {}) } });
  const sync = async (): Promise<SourceRunResult> => {
    const r = await api('/sources/mirror/sync?wait=1', { method: 'POST' });
    assert.equal(r.status, 200);
    return (await r.json()) as SourceRunResult;
  };
  const statuses = (r: SourceRunResult): string[] => r.files.map((f) => `${f.file}${f.profile ? `>${f.profile}` : ''}:${f.status}`).sort();
  const put = (name: string, bytes: Buffer | string): void => writeFileSync(join(mirror, name), bytes);
  const inCatalog = (file: string): string[] =>
    s.core.catalog
      .list()
      .filter((a) => a.filename === file)
      .map((a) => a.profile)
      .sort();

  before(async () => {
    dir = tempDir('aps-mirror-');
    mirror = join(dir, 'remote', 'mirror');
    mkdirSync(mirror, { recursive: true });
    const good = randomBytes(40_000);
    const tones = Buffer.from('call progress tones, shared by two families');
    put('vop-5.0.bin', 'vop 5.0, no checksum published');
    put('vop-5.1.bin', 'vop 5.1 with a GNU sidecar');
    put('vop-5.1.bin.sha256', `${sha256('vop 5.1 with a GNU sidecar')}  vop-5.1.bin\n`);
    put('vop-5.2.bin', 'vop 5.2, damaged on the mirror');
    put('vop-5.2.bin.md5', `MD5 (vop-5.2.bin) = ${md5('what the vendor built')}\n`);
    put('gw-7.20.cmp', good);
    put('gw-bad.cmp', 'not what the manifest says');
    put('tones.dat', tones);
    put('README.txt', 'release notes');
    put(
      'manifest.yaml',
      [
        'files:',
        '  - { file: gw-7.20.cmp, profile: audiocodes-mp124, kind: firmware, models: [MP-124], version: 7.20A.256, serial: 720,',
        `      sha256: ${sha256(good)} }`,
        `  - { file: gw-bad.cmp, profile: audiocodes-mp124, kind: firmware, version: 7.21A.1, sha256: ${sha256('what the vendor built')} }`,
        `  - { file: tones.dat, profile: audiocodes-mp124, kind: aux, role: cpt, version: "3", md5: ${md5(tones)} }`,
        `  - { file: tones.dat, profile: audiocodes-mp11x, kind: aux, role: cpt, version: "3", md5: ${md5(tones)} }`,
      ].join('\n'),
    );
    sftp = await startSftpServer(join(dir, 'remote'), 'mirror', PASSWORD);
    const data = join(dir, 'data');
    // A transfer a killed process left: gone once the server has started (its pid is no live process).
    mkdirSync(join(data, 'sources', 'tmp'), { recursive: true });
    writeFileSync(join(data, 'sources', 'tmp', '2147483646-mirror-0badc0de.part'), 'half a firmware');
    s = await startTestServer(
      {
        // `rollout:` needs release: manual in every profile the source maps to.
        profilesDir: manualProfiles(['vop', 'audiocodes-mp124', 'audiocodes-mp11x']),
        sources: [
          {
            name: 'mirror',
            type: 'sftp',
            host: '127.0.0.1',
            port: sftp.port,
            username: 'mirror',
            password: PASSWORD,
            hostKeySha256: sftp.fingerprint,
            path: '/mirror',
            manifest: 'manifest.yaml',
            map: [{ pattern: 'vop-(?<version>\\d+\\.\\d+)\\.bin', profile: 'vop', kind: 'firmware' }],
            prune: true,
            rollout: { stages: [10, 100], maxFailures: '5%' },
          },
        ],
      },
      data,
    );
    sourceRunner(s.core, {
      onArtifactsAdded: (src, artifacts) => {
        rollouts.push(...rolloutRequests(src.rollout, artifacts));
        return Promise.resolve();
      },
    });
    s.core.devices.upsert({ id: 'op1', profile: 'vop', password: 'op1-pass' }, 'create');
  });
  after(async () => {
    if (!closed) await s?.stop();
    await sftp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('removes the temp file a killed transfer left, at start', () => {
    assert.deepEqual(readdirSync(join(s.dataDir, 'sources', 'tmp')), []);
  });

  it('maps by pattern and manifest, verifies sidecar and manifest checksums, reports unmapped files', async () => {
    const r = await sync();
    assert.equal(r.ok, false, 'two files failed their checksums');
    assert.deepEqual(statuses(r), [
      'README.txt:unmapped',
      'gw-7.20.cmp>audiocodes-mp124:added',
      'gw-bad.cmp>audiocodes-mp124:failed',
      'tones.dat>audiocodes-mp11x:added',
      'tones.dat>audiocodes-mp124:added',
      'vop-5.0.bin>vop:added',
      'vop-5.1.bin>vop:added',
      'vop-5.2.bin>vop:failed',
    ]);
    const reason = (file: string): string => r.files.find((f) => f.file === file)!.reason!;
    assert.match(reason('vop-5.2.bin'), /^md5 mismatch: published [0-9a-f]{32}, received [0-9a-f]{32}$/);
    assert.match(reason('gw-bad.cmp'), /^sha256 mismatch: published [0-9a-f]{64}, received [0-9a-f]{64}$/);
    assert.match(reason('README.txt'), /not in manifest\.yaml, and no rule matches the name/);
    // Nothing of a rejected file reaches the catalog; the accepted ones carry the manifest's metadata.
    assert.deepEqual(inCatalog('vop-5.2.bin'), []);
    assert.deepEqual(inCatalog('gw-bad.cmp'), []);
    assert.deepEqual(inCatalog('tones.dat'), ['audiocodes-mp11x', 'audiocodes-mp124']);
    const gw = s.core.catalog.list('audiocodes-mp124').find((a) => a.filename === 'gw-7.20.cmp')!;
    assert.deepEqual([gw.version, gw.serial, gw.models, gw.origin], ['7.20A.256', 720, ['MP-124'], 'sftp:mirror']);
    assert.deepEqual(
      s.core.catalog
        .list('vop')
        .map((a) => [a.filename, a.version])
        .sort(),
      [
        ['vop-5.0.bin', '5.0'],
        ['vop-5.1.bin', '5.1'],
      ],
    );
    assert.equal(
      s.core.catalog.list().some((a) => ['manifest.yaml', 'vop-5.1.bin.sha256', 'README.txt'].includes(a.filename)),
      false,
      'manifest, sidecars and unmapped files are never artifacts',
    );
    // The source's rollout key: one request per added artifact, handed to the hook the process connected.
    assert.deepEqual(
      rollouts.map((x) => x.artifactId).sort((a, b) => a - b),
      r.files
        .filter((f) => f.status === 'added')
        .map((f) => f.artifactId!)
        .sort((a, b) => a - b),
    );
    assert.deepEqual(rollouts[0] && { stages: rollouts[0].stages, maxFailures: rollouts[0].maxFailures }, {
      stages: [10, 100],
      maxFailures: '5%',
    });
  });

  it('a second run fetches only what failed, and adds nothing twice', async () => {
    const reads = sftp.reads.length;
    const r = await sync();
    assert.equal(r.added, 0);
    assert.equal(r.unchanged, 5);
    assert.deepEqual(
      [...new Set(sftp.reads.slice(reads))].sort(),
      ['/mirror/gw-bad.cmp', '/mirror/manifest.yaml', '/mirror/vop-5.2.bin', '/mirror/vop-5.2.bin.md5'],
      'unchanged files and their sidecars are not read again',
    );
  });

  it('a transfer cut mid-file adds nothing, leaves no temp file, is recorded, and the next run gets it', async () => {
    const big = randomBytes(300_000);
    put('vop-6.0.bin', big);
    put('vop-6.0.bin.sha256', sha256(big));
    sftp.dropOnRead = '/mirror/vop-6.0.bin';
    const cut = await sync();
    assert.equal(cut.ok, false);
    assert.match(cut.error ?? '', /connection to 127\.0\.0\.1:\d+ lost/);
    assert.equal(cut.files.find((f) => f.file === 'vop-6.0.bin')?.status, 'failed');
    assert.deepEqual(inCatalog('vop-6.0.bin'), []);
    assert.deepEqual(readdirSync(join(s.dataDir, 'sources', 'tmp')), []);
    const recorded = s.core.store.sourceRuns.get(cut.id!)!;
    assert.deepEqual([recorded.status, recorded.error], ['failed', cut.error]);

    const again = await sync();
    assert.equal(again.files.find((f) => f.file === 'vop-6.0.bin')?.status, 'added');
    assert.equal(s.core.catalog.list('vop').find((a) => a.filename === 'vop-6.0.bin')?.sha256, sha256(big));
  });

  it('prune retires the artifacts whose file left the mirror, except a device target', async () => {
    // Under release: manual a build is op1's target once released (what its completed rollout does).
    const v6 = s.core.catalog.list('vop').find((a) => a.filename === 'vop-6.0.bin')!;
    s.core.store.rollouts.release(v6.id, 'rollout (test)', new Date().toISOString());
    const target = s.core.catalog.target(s.core.devices.get('op1')!, 'firmware')!;
    assert.equal(target.filename, 'vop-6.0.bin');
    // An artifact another way added is never this source's to prune.
    await s.core.catalog.addBuffer(Buffer.from('uploaded by hand'), {
      profile: 'audiocodes-mp124',
      kind: 'firmware',
      version: '1',
      filename: 'manual.cmp',
    });
    for (const f of ['vop-5.0.bin', 'vop-5.1.bin', 'vop-5.1.bin.sha256', 'vop-6.0.bin', 'vop-6.0.bin.sha256']) rmSync(join(mirror, f));
    const r = await sync();
    assert.deepEqual(
      r.pruned.map((p) => [p.file, p.status]),
      [
        ['vop-5.0.bin', 'retired'],
        ['vop-5.1.bin', 'retired'],
        ['vop-6.0.bin', 'kept'],
      ],
    );
    assert.match(r.pruned[2]!.reason!, /is the current firmware target of op1$/);
    assert.deepEqual(
      s.core.catalog
        .list()
        .map((a) => a.filename)
        .filter((f) => f.startsWith('vop-') || f === 'manual.cmp')
        .sort(),
      ['manual.cmp', 'vop-6.0.bin'],
    );
  });

  it('lists the source (without its password) and its runs through the API', async () => {
    const list = (await (await api('/sources')).json()) as Array<Record<string, unknown>>;
    assert.equal(list.length, 1);
    assert.equal(list[0]!.name, 'mirror');
    assert.equal(list[0]!.hostKeyPinned, true);
    assert.ok(!JSON.stringify(list).includes(PASSWORD));
    assert.equal((list[0]!.lastRun as { status: string }).status, 'failed');

    const runs = (await (await api('/sources/mirror/runs')).json()) as Array<Record<string, unknown>>;
    assert.equal(runs.length, 5);
    assert.deepEqual(
      runs.map((r) => r.trigger),
      Array(5).fill('api'),
    );
    assert.ok((runs[0]!.id as number) > (runs[1]!.id as number), 'newest first');
    const first = runs.at(-1)!;
    assert.deepEqual([first.added, first.failed, first.unmapped, first.status], [5, 2, 1, 'failed']);
    assert.ok((first.bytes as number) > 40_000);
    assert.equal(typeof first.durationMs, 'number');
    const one = (await (await api(`/sources/mirror/runs/${String(first.id)}`)).json()) as {
      files: Array<{ file: string; status: string; reason?: string }>;
    };
    assert.match(one.files.find((f) => f.file === 'vop-5.2.bin')!.reason!, /md5 mismatch/);
    assert.equal((await api('/sources/mirror/runs/999999')).status, 404);
    const never = await api('/sources/nope/runs');
    assert.equal(never.status, 404, 'a source neither configured nor ever run is not an empty history');
    assert.match(((await never.json()) as { message: string }).message, /no source "nope"/);
    const unknown = await api('/sources/nope/sync', { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { message: string }).message, /no source "nope" \(configured: mirror\)/);
  });

  it('lists the same history through `aps sync --history`', async () => {
    const { aps } = apsCli({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' });
    const json = JSON.parse((await aps('sync', '--history', 'mirror', '--json')).stdout) as Array<{
      id: number;
      added: number;
      files: unknown[];
    }>;
    const viaApi = (await (await api('/sources/mirror/runs')).json()) as Array<{ id: number; added: number }>;
    assert.deepEqual(
      json.map((r) => [r.id, r.added]),
      viaApi.map((r) => [r.id, r.added]),
    );
    assert.ok(Array.isArray(json.at(-1)!.files));
    const { stdout } = await aps('sync', '--history', '--limit', '2');
    const lines = stdout.trim().split('\n');
    assert.match(
      lines[0]!,
      /^ID\s+SOURCE\s+TRIGGER\s+STATUS\s+STARTED\s+DURATION\s+ADDED\s+UNCHANGED\s+SKIPPED\s+FAILED\s+UNMAPPED\s+PRUNED\s+BYTES\s+ERROR$/,
    );
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, new RegExp(`^${viaApi[0]!.id}\\s+mirror\\s+api\\s+failed\\s`));
  });

  it('POST without wait answers 202 at once; a second sync of the running source is a 409; shutdown records it cancelled', async () => {
    put('vop-7.0.bin', randomBytes(50_000));
    sftp.stallOnRead = '/mirror/vop-7.0.bin';
    const started = await api('/sources/mirror/sync', { method: 'POST' });
    assert.equal(started.status, 202);
    const { id } = (await started.json()) as { id: number };
    assert.equal(started.headers.get('location'), `/api/v1/sources/mirror/runs/${id}`);
    const busy = await api('/sources/mirror/sync', { method: 'POST' });
    for (const until = Date.now() + 10_000; !sftp.reads.includes('/mirror/vop-7.0.bin'); await new Promise((r) => setTimeout(r, 10))) {
      assert.ok(Date.now() < until, 'the download never started');
    }
    assert.equal(busy.status, 409);
    assert.match(((await busy.json()) as { message: string }).message, new RegExp(`source "mirror" is already syncing \\(run ${id}, `));
    const running = (await (await api(`/sources/mirror/runs/${id}`)).json()) as { status: string; progress: unknown };
    assert.equal(running.status, 'running');
    assert.deepEqual(running.progress, { source: 'mirror', file: 'vop-7.0.bin', bytes: 0, total: 50_000, done: false });
    // The server, not the test helper: the data folder stays to be read.
    await s.close();
    closed = true;
    sftp.stallOnRead = null;
    const store = openStore(s.dataDir);
    try {
      const run = store.sourceRuns.get(id)!;
      assert.deepEqual([run.status, run.error], ['failed', 'sftp source "mirror": run cancelled']);
    } finally {
      store.close();
    }
    assert.equal(existsSync(join(s.dataDir, 'sources', 'tmp')) && readdirSync(join(s.dataDir, 'sources', 'tmp')).length, 0);
  });
});
