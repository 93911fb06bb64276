import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestServer, tempDir } from './helpers/server.ts';

describe('the data folder', () => {
  it('is created owner-only, with an owner-only key file', async () => {
    const data = join(tempDir(), 'fresh', 'data');
    const s = await startTestServer({}, data);
    try {
      assert.equal(statSync(data).mode & 0o777, 0o700);
      assert.equal(statSync(join(data, 'secret.key')).mode & 0o777, 0o600);
    } finally {
      await s.stop();
    }
  });
});
