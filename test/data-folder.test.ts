import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { looseModes } from '../src/data-folder.ts';
import { capturingLogger } from './helpers/log-capture.ts';
import { startTestServer, tempDir } from './helpers/server.ts';
import { until } from './helpers/until.ts';

describe('the data folder', () => {
  it('holds only owner-only files (0600) and folders (0700): database and its WAL, keys, uploads, blobs, backups', async () => {
    const data = join(tempDir(), 'fresh', 'data');
    const s = await startTestServer({}, data);
    try {
      const form = new FormData();
      for (const [k, v] of Object.entries({ kind: 'firmware', profile: 'vop', version: '1.0', serial: '1' })) form.set(k, v);
      form.set('file', new Blob([Buffer.from('firmware bytes')]), 'fw.bin');
      const up = await fetch(`${s.http}/api/v1/artifacts`, { method: 'POST', headers: { authorization: s.auth }, body: form });
      assert.equal(up.status, 201);
      for (const f of ['aps.sqlite', 'aps.sqlite-wal', 'aps.sqlite-shm', 'secret.key', 'tls/key.pem', 'tls/cert.pem']) {
        assert.equal(statSync(join(data, f)).mode & 0o777, 0o600, f);
      }
      for (const d of ['.', 'uploads', 'blobs', 'blobs/tmp', 'backups', 'tls'])
        assert.equal(statSync(join(data, d)).mode & 0o777, 0o700, d);
      // The upload's temp file is removed just after the answer. Its mode comes from `aps serve`'s umask,
      // which this in-process server does not set: test/fault-injection.test.ts checks it mid-upload.
      await until(
        'the upload temp file is removed',
        () => readdirSync(join(data, 'uploads')).length,
        (n) => n === 0,
      );
      assert.deepEqual(looseModes(data), []);
    } finally {
      await s.stop();
    }
  });

  it('start-up warns about a folder or file other local users may read', async () => {
    const data = tempDir();
    chmodSync(data, 0o755);
    mkdirSync(join(data, 'uploads'), { mode: 0o755 });
    writeFileSync(join(data, 'aps.sqlite'), '', { mode: 0o644 });
    const { log, lines } = capturingLogger('warn');
    const s = await startTestServer({}, data, log);
    try {
      const warning = lines.find((l) => /other local users may read/.test(String(l.msg)));
      assert.ok(warning, 'a warning');
      // SQLite gives its -wal and -shm files the database's own (loose) mode: named too.
      assert.deepEqual((warning.paths as string[]).sort(), ['.', 'aps.sqlite', 'aps.sqlite-shm', 'aps.sqlite-wal', 'uploads']);
      assert.equal(warning.count, 5);
    } finally {
      await s.stop();
    }
  });
});
