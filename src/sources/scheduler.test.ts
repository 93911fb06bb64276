import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSftpServer, type TestSftpServer } from '../../test/helpers/sftp-server.ts';
import { startTestServer, tempDir } from '../../test/helpers/server.ts';
import { createLogger } from '../log.ts';
import { finishRun, type SourceRunResult } from './result.ts';
import { scheduleSources } from './scheduler.ts';
import type { SourceConfig } from './source-config.ts';

const EVERY_SECOND = '* * * * * *';

/** Waits for one event, failing after a bounded time instead of hanging the suite. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('source scheduler', () => {
  let dir: string;
  let sftp: TestSftpServer;

  before(async () => {
    dir = tempDir('aps-sched-');
    mkdirSync(join(dir, 'remote', 'fw'), { recursive: true });
    writeFileSync(join(dir, 'remote', 'fw', 'vop-7.1.bin'), 'scheduled firmware');
    sftp = await startSftpServer(join(dir, 'remote'), 'mirror', 'pw-0123456789');
  });
  after(async () => {
    await sftp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the server runs a scheduled SFTP sync and the artifact lands in the catalog', async () => {
    const server = await startTestServer({
      sources: [
        {
          name: 'nightly',
          type: 'sftp',
          host: '127.0.0.1',
          port: sftp.port,
          username: 'mirror',
          password: 'pw-0123456789',
          hostKeySha256: sftp.fingerprint,
          path: '/fw',
          profile: 'vop',
          kind: 'firmware',
          schedule: EVERY_SECOND,
        },
      ],
    });
    try {
      assert.deepEqual(server.sources.scheduled, ['nightly']);
      const [r] = (await within(once(server.sources.events, 'run'), 10_000, 'scheduled run')) as [SourceRunResult];
      assert.equal(r.ok, true, r.error);
      assert.equal(r.source, 'nightly');
      const a = server.core.catalog.list('vop').find((x) => x.filename === 'vop-7.1.bin');
      assert.equal(a?.origin, 'sftp:nightly');
      assert.equal(a?.version, '7.1');
    } finally {
      await server.stop();
    }
  });

  it('refuses to start when a source names an unknown profile', async () => {
    const data = tempDir('aps-sched-bad-');
    await assert.rejects(
      startTestServer({ sources: [{ name: 'x', type: 'folder', path: dir, profile: 'no-such-profile', kind: 'firmware' }] }, data),
      /sources\.0\.profile: no profile "no-such-profile"/,
    );
    rmSync(data, { recursive: true, force: true });
  });

  it('never overlaps runs of the same source, and stop() cancels the run in flight', async () => {
    const src: SourceConfig = {
      name: 'slow',
      type: 'folder',
      path: dir,
      profile: 'vop',
      kind: 'firmware',
      schedule: EVERY_SECOND,
      checksums: 'verify',
      prune: false,
      maxBytes: 1024,
    };
    let active = 0;
    let maxActive = 0;
    let started = 0;
    let sawAbort = false;
    const run = async (s: SourceConfig, signal: AbortSignal): Promise<SourceRunResult> => {
      active++;
      started++;
      maxActive = Math.max(maxActive, active);
      // Held open until the scheduler is stopped, so every later tick finds it in flight.
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      sawAbort = signal.aborted;
      active--;
      return finishRun(
        { id: null, source: s.name, type: 'folder', trigger: 'schedule', startedAt: new Date() },
        { files: [], error: 'run cancelled' },
      );
    };
    const scheduler = scheduleSources([src], run, createLogger('silent'));
    await within(once(scheduler.events, 'skipped'), 10_000, 'skipped tick');
    await scheduler.stop();
    assert.equal(started, 1);
    assert.equal(maxActive, 1);
    assert.equal(sawAbort, true);
    assert.equal(active, 0, 'stop() waited for the run to finish');
  });
});
