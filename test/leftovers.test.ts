import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sweepLeftovers } from '../src/data-folder.ts';
import { copyFileAtomic } from '../src/fs-atomic.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const DEAD = 2147483646; // no such pid on Linux (pid_max is at most 2^22)

/** One temp file of every kind a writer leaves when killed mid-write, all by the pid given. */
function plant(data: string, pid: number, tag: string): string[] {
  const files = [
    join(data, 'blobs', 'tmp', `${pid}-${tag}0badc0de`),
    join(data, 'uploads', `${pid}-${tag}cafe`),
    join(data, 'sources', 'tmp', `${pid}-upstream.${tag}00112233aabb.part`),
    join(data, 'backups', 'tmp', `${pid}-${tag}beef.tmp`),
    // writeFileAtomic's temps, wherever it writes in the data folder (admin.token, secret.key, tls/).
    join(data, `.admin.token.${pid}.${tag.padEnd(12, '0').slice(0, 12)}.tmp`),
    join(data, 'tls', `.key.pem.${pid}.${tag.padEnd(12, '1').slice(0, 12)}.tmp`),
  ];
  for (const f of files) {
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, 'partial');
  }
  return files;
}

// A kill -9 in the middle of a write leaves a temp file behind; the next start removes it when its writer is
// gone, or carried the starting process's own pid (a container's server is PID 1 every time), and keeps one
// a live process is still writing (a server beside this CLI, on the same data folder).
describe('temp files left by a killed writer', () => {
  it('of every kind, by a dead or re-used pid, are removed at start; a live writer keeps its files', async () => {
    const data = tempDir();
    const dead = plant(data, DEAD, 'aa');
    const mine = plant(data, process.pid, 'bb');
    const live = plant(data, process.ppid, 'cc');
    const s = await startTestServer({}, data);
    try {
      for (const f of dead) assert.equal(existsSync(f), false, `a dead writer's ${f}`);
      for (const f of mine) assert.equal(existsSync(f), false, `a temp carrying our own pid is a previous process's: ${f}`);
      for (const f of live) assert.equal(existsSync(f), true, `a live writer keeps ${f}`);
    } finally {
      await s.stop();
    }
  });

  it("are removed by a running server's periodic sweep, which keeps its own files in progress", async () => {
    const s = await startTestServer();
    try {
      // Left by a CLI command killed beside the running server, after the server started.
      const dead = plant(s.dataDir, DEAD, 'dd');
      const mine = plant(s.dataDir, process.pid, 'ee');
      const removed = sweepLeftovers(s.dataDir, true);
      assert.deepEqual(removed.sort(), dead.sort());
      for (const f of mine) assert.equal(existsSync(f), true, `the server's own write in progress: ${f}`);
    } finally {
      await s.stop();
    }
  });

  it('copyFileAtomic (aps data restore) leaves the whole copy, owner-only, and no temp (writeFileAtomic temps, swept at start)', () => {
    const dir = tempDir();
    const from = join(dir, 'from.bin');
    writeFileSync(from, Buffer.alloc(300_000, 7));
    const to = join(dir, 'to', 'aps.sqlite');
    mkdirSync(join(dir, 'to'));
    writeFileSync(to, 'old');
    copyFileAtomic(from, to);
    assert.deepEqual(readFileSync(to), readFileSync(from));
    assert.equal(statSync(to).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'to')), ['aps.sqlite']);
    // A copy that fails (its source gone) leaves the old file and no temp.
    assert.throws(() => copyFileAtomic(join(dir, 'missing'), to));
    assert.deepEqual(readdirSync(join(dir, 'to')), ['aps.sqlite']);
  });
});
