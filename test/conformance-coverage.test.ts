import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ADAPTERS } from '../adapters/index.ts';
import { startTestServer } from './helpers/server.ts';

// Issue 8: the shared conformance suite is mandatory. Every adapter in the static list runs it from its
// own conformance.test.ts, and an adapter that mounts an FTP view runs its FTP case too.
const root = new URL('..', import.meta.url);

describe('every adapter runs the conformance suite', () => {
  it('each adapter in adapters/index.ts has a conformance.test.ts that calls conformanceSuite for it', () => {
    for (const a of ADAPTERS) {
      const file = new URL(`adapters/${a.name}/conformance.test.ts`, root);
      assert.ok(existsSync(file), `adapters/${a.name}/conformance.test.ts is missing`);
      const text = readFileSync(file, 'utf8');
      assert.match(text, /conformanceSuite\(\{/, `adapters/${a.name}/conformance.test.ts does not call conformanceSuite`);
      assert.match(text, new RegExp(`adapter: '${a.name}'`), `adapters/${a.name}/conformance.test.ts runs the suite for another adapter`);
    }
  });

  it('an adapter that mounts FTP declares the FTP case', async () => {
    const server = await startTestServer({ https: { enabled: false } });
    try {
      assert.ok(server.ftpMounts.length > 0, 'at least one adapter mounts FTP (AudioCodes)');
      for (const name of server.ftpMounts) {
        const text = readFileSync(new URL(`adapters/${name}/conformance.test.ts`, root), 'utf8');
        assert.match(text, /\bftp: true\b/, `adapters/${name} mounts FTP, so its conformance run must declare ftp: true`);
      }
    } finally {
      await server.stop();
    }
  });
});
