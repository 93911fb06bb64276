import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADAPTERS } from '../adapters/index.ts';
import { loadConfig } from '../src/config.ts';
import { openCore, type Core } from '../src/core.ts';
import { createLogger } from '../src/log.ts';
import type { SourceConfig } from '../src/sources/source-config.ts';
import { sourceRunner } from '../src/sources/sync.ts';
import { tempDir } from './helpers/server.ts';
import { coreWithSource } from './helpers/sources.ts';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The runner over a local folder source: checksums required, symlinks, the per-source lock, hooks, history. */
describe('source runs: recorded, never two at once, hooks', () => {
  let dir: string;
  let core: Core;
  let src: SourceConfig;

  before(() => {
    dir = tempDir('aps-runs-');
    const up = join(dir, 'up');
    mkdirSync(up);
    writeFileSync(join(up, 'vop-1.0.bin'), 'one');
    writeFileSync(join(up, 'vop-1.0.bin.sha256'), `${sha256('one')}\n`);
    writeFileSync(join(up, 'vop-1.1.bin'), 'no checksum for me');
    writeFileSync(join(up, 'notes.txt'), 'not firmware');
    writeFileSync(join(dir, 'secret'), 'outside the folder');
    symlinkSync(join(dir, 'secret'), join(up, 'vop-9.9.bin'));
    core = coreWithSource(dir, {
      name: 'drop',
      type: 'folder',
      path: up,
      checksums: 'require',
      map: [{ pattern: 'vop-(?<version>[\\d.]+)\\.bin', profile: 'vop', kind: 'firmware' }],
      rollout: { stages: [50, 100] },
    });
    src = core.config.sources[0]!;
  });
  after(() => core.close());

  it('adds only files with a published checksum, skips links, reports the rest, and records the run', async () => {
    const r = await sourceRunner(core).run(src, { trigger: 'cli', who: 'test' });
    assert.deepEqual(
      r.files.map((f) => [f.file, f.status, f.reason ?? '']),
      [
        ['notes.txt', 'unmapped', 'no rule matches the name'],
        ['vop-1.0.bin', 'added', ''],
        ['vop-1.1.bin', 'failed', 'no published checksum (checksums: require): add it to the manifest or a .sha256 file'],
        ['vop-9.9.bin', 'skipped', 'symbolic link, not followed'],
      ],
    );
    assert.deepEqual(
      core.catalog.list('vop').map((a) => [a.filename, a.origin]),
      [['vop-1.0.bin', 'folder:drop']],
    );
    const [run] = core.store.sourceRuns.list({ source: 'drop', limit: 5 });
    assert.deepEqual(
      [run?.id, run?.trigger, run?.status, run?.added, run?.failed, run?.skipped, run?.unmapped, run?.bytes],
      [r.id, 'cli', 'failed', 1, 1, 1, 1, 3],
    );
  });

  it('refuses a second run of a source while one is going, in this process or a live other one', async () => {
    const runner = sourceRunner(core);
    const first = runner.start(src, { trigger: 'api', who: 'test' });
    assert.throws(
      () => runner.start(src, { trigger: 'cli', who: 'test' }),
      new RegExp(`source "drop" is already syncing \\(run ${first.id}, started .* by api, pid ${process.pid}\\)`),
    );
    const refused = await runner.run(src, { trigger: 'cli', who: 'test' });
    assert.deepEqual([refused.id, refused.ok], [null, false]);
    await first.done;
    // A live process on this host (our parent) holds a run: refused too.
    const held = core.store.sourceRuns.begin(
      { source: 'drop', type: 'folder', trigger: 'cli', pid: process.ppid, host: hostname(), startedAt: new Date().toISOString() },
      () => false,
    );
    assert.ok('id' in held);
    assert.throws(() => runner.start(src, { trigger: 'cli', who: 'test' }), /already syncing/);
    core.store.sourceRuns.finish(
      held.id,
      {
        status: 'ok',
        finishedAt: new Date().toISOString(),
        durationMs: 0,
        added: 0,
        unchanged: 0,
        skipped: 0,
        failed: 0,
        unmapped: 0,
        pruned: 0,
        bytes: 0,
        error: null,
      },
      {},
    );
  });

  it('takes over from a run whose process died, or that carries our pid from a previous start, marking it interrupted', async () => {
    const stale = [2147483646, process.pid].map((pid) => {
      const b = core.store.sourceRuns.begin(
        { source: 'drop', type: 'folder', trigger: 'schedule', pid, host: hostname(), startedAt: new Date().toISOString() },
        () => false,
      );
      assert.ok('id' in b);
      return b.id;
    });
    const r = await sourceRunner(core).run(src, { trigger: 'cli', who: 'test' });
    assert.notEqual(r.id, null);
    for (const id of stale) {
      const run = core.store.sourceRuns.get(id)!;
      assert.equal(run.status, 'interrupted');
      assert.match(run.error!, /^interrupted: the process running it \(pid \d+ on .+\) ended before it finished$/);
    }
  });

  it('hands what a run added to the rollout hook, and records a hook failure as the run error', async () => {
    const calls: Array<{ source: string; stages: number[]; ids: number[] }> = [];
    sourceRunner(core, {
      onArtifactsAdded: (s, artifacts) => {
        calls.push({ source: s.name, stages: s.rollout.stages, ids: artifacts.map((a) => a.id) });
        return Promise.reject(new Error('no eligible devices'));
      },
    });
    writeFileSync(join(dir, 'up', 'vop-1.2.bin'), 'two');
    writeFileSync(join(dir, 'up', 'vop-1.2.bin.sha256'), `SHA256 (vop-1.2.bin) = ${sha256('two')}\n`);
    const r = await sourceRunner(core).run(src, { trigger: 'cli', who: 'test' });
    const added = r.files.filter((f) => f.status === 'added').map((f) => f.artifactId!);
    assert.equal(added.length, 1);
    assert.deepEqual(calls, [{ source: 'drop', stages: [50, 100], ids: added }]);
    assert.match(r.error!, new RegExp(`^artifacts ${added[0]} were added, but their rollout did not start: no eligible devices$`));
    assert.equal(core.store.sourceRuns.get(r.id!)?.error, r.error);
    sourceRunner(core, {});
  });

  it('reads a sidecar whatever the case of its extension', async () => {
    writeFileSync(join(dir, 'up', 'vop-2.0.bin'), 'two point oh');
    writeFileSync(join(dir, 'up', 'vop-2.0.bin.SHA256'), `${sha256('something else')}  vop-2.0.bin\n`);
    const r = await sourceRunner(core).run(src, { trigger: 'cli', who: 'test' });
    const f = r.files.find((x) => x.file === 'vop-2.0.bin');
    assert.equal(f?.status, 'failed');
    assert.match(f!.reason!, /^sha256 mismatch: published /);
    assert.ok(!r.files.some((x) => x.file === 'vop-2.0.bin.SHA256'), 'the sidecar is no artifact and not reported');
  });
});

describe('folder source symbolic links (review 12, finding 8)', () => {
  it('never follows a symbolic link, the manifest and checksum sidecars included', async () => {
    const dir = tempDir('aps-runs-links-');
    const up = join(dir, 'up');
    mkdirSync(up);
    writeFileSync(join(up, 'vop-6.0.bin'), 'six');
    writeFileSync(join(up, 'vop-7.0.bin'), 'seven');
    // The manifest and a sidecar are links to files outside the source folder.
    writeFileSync(join(dir, 'outside.yaml'), 'files:\n  - { file: vop-6.0.bin, profile: vop, kind: firmware, version: "6.0" }\n');
    writeFileSync(join(dir, 'outside.sha256'), `${sha256('seven')}\n`);
    symlinkSync(join(dir, 'outside.yaml'), join(up, 'manifest.yaml'));
    symlinkSync(join(dir, 'outside.sha256'), join(up, 'vop-7.0.bin.sha256'));
    const open = (source: Record<string, unknown>): Core =>
      openCore(
        loadConfig({ env: {}, overrides: { dataDir: join(dir, `data-${String(source.name)}`), sources: [source as SourceConfig] } }),
        ADAPTERS,
        createLogger('silent'),
      );
    const withManifest = open({ name: 'm', type: 'folder', path: up, manifest: 'manifest.yaml' });
    try {
      const run = await sourceRunner(withManifest).run(withManifest.config.sources[0]!, { trigger: 'cli', who: 'test' });
      assert.deepEqual(
        run.files.filter((f) => f.status === 'added').map((f) => f.file),
        [],
        'a file was mapped by a manifest read through a symbolic link',
      );
      assert.match(run.error ?? '', /manifest manifest\.yaml is not read: symbolic link, not followed/);
    } finally {
      withManifest.close();
    }
    const required = open({
      name: 'r',
      type: 'folder',
      path: up,
      checksums: 'require',
      map: [{ pattern: 'vop-(?<version>[\\d.]+)\\.bin', profile: 'vop', kind: 'firmware' }],
    });
    try {
      const run = await sourceRunner(required).run(required.config.sources[0]!, { trigger: 'cli', who: 'test' });
      const by = new Map(run.files.map((f) => [f.file, `${f.status}: ${f.reason ?? ''}`]));
      assert.equal(by.get('vop-7.0.bin.sha256'), 'skipped: symbolic link, not followed');
      assert.match(by.get('vop-7.0.bin') ?? '', /^failed: no published checksum/, 'a checksum was read through a symbolic link');
    } finally {
      required.close();
    }
  });
});

describe('a file the catalog refuses', () => {
  it('is not fetched again while neither the file nor its profile changes', async () => {
    const dir = tempDir('aps-refused-');
    const up = join(dir, 'up');
    mkdirSync(up);
    // A config artifact is read whole per request: the catalog refuses one above 4 MiB.
    writeFileSync(join(up, 'big-1.0.cfg'), Buffer.alloc(5 * 1024 * 1024, 1));
    const core = coreWithSource(dir, {
      name: 'cfgs',
      type: 'folder',
      path: up,
      map: [{ pattern: 'big-(?<version>[\\d.]+)\\.cfg', profile: 'vop', kind: 'config' }],
    });
    try {
      const src = core.config.sources[0]!;
      const first = await sourceRunner(core).run(src, { trigger: 'cli', who: 'test' });
      assert.deepEqual(
        first.files.map((f) => [f.status, f.downloaded]),
        [['skipped', 5 * 1024 * 1024]],
      );
      assert.match(first.files[0]!.reason!, /at most 4194304 bytes/);
      const second = await sourceRunner(core).run(src, { trigger: 'cli', who: 'test' });
      assert.deepEqual(
        second.files.map((f) => [f.status, f.downloaded]),
        [['skipped', 0]],
        'refused again without a download',
      );
      assert.match(second.files[0]!.reason!, /at most 4194304 bytes.*refused before/);
      // A new upload under the same name is a new file: fetched (and judged) again.
      writeFileSync(join(up, 'big-1.0.cfg'), Buffer.alloc(5 * 1024 * 1024 + 1, 2));
      const third = await sourceRunner(core).run(src, { trigger: 'cli', who: 'test' });
      assert.deepEqual(
        third.files.map((f) => [f.status, f.downloaded]),
        [['skipped', 5 * 1024 * 1024 + 1]],
      );
    } finally {
      core.close();
    }
  });
});
