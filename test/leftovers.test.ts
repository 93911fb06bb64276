import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestServer, tempDir } from './helpers/server.ts';

// A kill -9 in the middle of a write leaves a temp file (`<pid>-…`) behind; the next start removes it when its
// writer is gone, or carried the starting process's own pid (a container's server is PID 1 every time), and
// keeps one a live process is still writing (a server beside this CLI, on the same data folder).
describe('temp files left by a killed writer are removed at the next start', () => {
  it('blob and upload temps of a dead or re-used pid go; a live writer keeps its file', async () => {
    const data = tempDir();
    const blobTmp = join(data, 'blobs', 'tmp');
    const uploads = join(data, 'uploads');
    mkdirSync(blobTmp, { recursive: true });
    mkdirSync(uploads, { recursive: true });
    const dead = join(blobTmp, '2147483646-deadbeef');
    const mine = join(blobTmp, `${process.pid}-0badc0de`);
    const live = join(blobTmp, `${process.ppid}-c0ffee`);
    const upload = join(uploads, '2147483645-cafe');
    for (const f of [dead, mine, live, upload]) writeFileSync(f, 'partial');
    const s = await startTestServer({}, data);
    try {
      assert.equal(existsSync(dead), false, "a dead writer's blob temp");
      assert.equal(existsSync(mine), false, 'a temp carrying our own pid is a previous process');
      assert.equal(existsSync(upload), false, "a dead writer's upload");
      assert.equal(existsSync(live), true, 'a live writer keeps its file');
    } finally {
      await s.stop();
    }
  });
});
