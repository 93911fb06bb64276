import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { legacyScryptHash } from './helpers/legacy-hash.ts';
import { startTestServer, tempDir } from './helpers/server.ts';
import { until } from './helpers/until.ts';

describe('VOP state written by an older APS', () => {
  it('a "reported" firmware (never sent by a VOP) is cleared by store migration 2, so the fleet shows what was fetched', async () => {
    const data = tempDir();
    // The database as an APS before migration 2 left it: schema 1, a VOP whose firmware was recorded as reported.
    const old = new Database(join(data, 'aps.sqlite'));
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    const now = new Date().toISOString();
    old
      .prepare('INSERT INTO devices (id, profile, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run('old-vop', 'vop', legacyScryptHash('pw'), now, now);
    old
      .prepare('INSERT INTO device_state (device_id, reported) VALUES (?, ?)')
      .run('old-vop', JSON.stringify({ firmware: '22', bootstrap: '1.0' }));
    old.close();

    const s = await startTestServer({}, data);
    try {
      s.core.events.flush();
      assert.deepEqual(s.core.devices.state('old-vop')?.reported, { bootstrap: '1.0' });
      await s.core.catalog.addBuffer(Buffer.from('fw 23'), {
        kind: 'firmware',
        profile: 'vop',
        version: '2.3',
        serial: 23,
        filename: 'fw23.bin',
      });
      const r = await fetch(`${s.http}/vop/f?u=old-vop&p=pw`);
      assert.equal(await r.text(), 'fw 23');
      // The download is recorded when the response has finished on the server side: wait for it.
      await until('the download recorded', () => {
        s.core.events.flush();
        return s.core.devices.state('old-vop')?.fetched.firmware;
      });
      const row = s.core.store.state.fleet().find((f) => f.profile === 'vop');
      assert.deepEqual({ version: row?.version, basis: row?.basis }, { version: '2.3', basis: 'fetched' });
    } finally {
      await s.stop();
    }
  });
});
