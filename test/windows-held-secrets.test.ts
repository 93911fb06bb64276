import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ADAPTERS } from '../adapters/index.ts';
import { buildAdapterServices } from '../src/adapter-services.ts';
import type { Core } from '../src/core.ts';
import { renderDeviceConfig } from '../src/render/device-template.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { tempDir } from './helpers/server.ts';
import { TestClock, openTestCore } from './helpers/windows.ts';

// Review 12 finding 1: the rendered files a device holds for its maintenance window carry its SIP password.
// They are kept only for a device that has a window, sealed, and never waited for on the request path.
const SECRET = 'SIP-SECRET-42';
const hasSecret = (b: Buffer | null | undefined): boolean => b?.includes(SECRET) ?? false;

describe('held rendered files keep no secret in clear', () => {
  const clock = new TestClock();
  let dir: string;
  let core: Core;
  const vop = ADAPTERS.find((a) => a.name === 'vop')!;
  const render = (id: string): Buffer | undefined => renderDeviceConfig(buildAdapterServices(core, vop), core.devices.get(id)!)?.bytes;
  const rawHeld = (): Array<{ device_id: string; key: string; bytes: Buffer | null }> => {
    const db = new Database(join(dir, 'aps.sqlite'), { readonly: true });
    try {
      return db
        .prepare<[], { device_id: string; key: string; bytes: Buffer | null }>('SELECT device_id, key, bytes FROM window_held')
        .all();
    } finally {
      db.close();
    }
  };

  before(() => {
    clock.set('2026-01-13T12:00:00Z');
    dir = tempDir('aps-held-secrets-');
    core = openTestCore({ dataDir: dir, clock });
    core.devices.upsertGroup({ name: 'night', vars: {}, pins: {} });
    core.windows.setGroupWindow('night', { days: ['wed'], from: '02:00', to: '03:00', tz: 'UTC', newDevices: 'serve', push: false });
  });
  after(() => core.close());

  it('a device with no window has no rendered bytes kept at all', () => {
    core.devices.upsert({ id: 'carol', profile: 'vop', password: 'carol-pw', vars: { sip_password: SECRET } });
    assert.ok(hasSecret(render('carol')), 'the device gets its password');
    assert.deepEqual(
      core.store.windows.heldAll('carol').filter((h) => h.bytes !== null),
      [],
    );
  });

  it('a device with a window holds its file sealed: the database and a backup of it have no password in clear', async () => {
    core.devices.upsert({ id: 'dave', profile: 'vop', group: 'night', password: 'dave-pw', vars: { sip_password: SECRET } });
    const given = render('dave')!;
    assert.ok(hasSecret(given));
    const rows = rawHeld().filter((r) => r.device_id === 'dave' && r.key.startsWith('file:'));
    assert.ok(rows.length > 0 && rows.every((r) => r.bytes !== null), 'the file is held');
    assert.deepEqual(
      rows.filter((r) => hasSecret(r.bytes)).map((r) => r.key),
      [],
      'held in clear',
    );
    const copy = join(tempDir('aps-held-backup-'), 'copy.sqlite');
    await core.store.backupTo(copy);
    assert.equal(readFileSync(copy).includes(SECRET), false, 'the backup has the password in clear');

    // Outside the window (closed once since) the device is answered with the held bytes, byte for byte,
    // though its password changed meanwhile.
    clock.set('2026-01-15T12:00:00Z');
    core.devices.upsert({ id: 'dave', vars: { sip_password: 'CHANGED-PW' } });
    assert.equal(core.windows.mode(core.devices.get('dave')!), 'hold');
    assert.deepEqual(render('dave'), given);
  });

  it('while another process holds the write lock, the held file is not waited for: it is written at the next poll', () => {
    core.devices.upsert({ id: 'erin', profile: 'vop', group: 'night', password: 'erin-pw' });
    const erin = core.devices.get('erin')!;
    const other = new Database(join(dir, 'aps.sqlite'));
    other.exec('BEGIN IMMEDIATE');
    try {
      // Waiting would end in SQLITE_BUSY after the store's busy timeout, thrown into the device's request.
      core.windows.noteRendered(erin, 'cfg', Buffer.from('cfg'), 'sha-cfg');
      assert.equal(core.windows.heldFile('erin', 'cfg'), undefined);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    core.windows.noteRendered(erin, 'cfg', Buffer.from('cfg'), 'sha-cfg');
    assert.deepEqual(core.windows.heldFile('erin', 'cfg'), Buffer.from('cfg'));
  });
});

describe('store migration 9', () => {
  it('drops the clear bytes migration 6 kept, zeroed in the file, and keeps what the device holds', () => {
    const dir = tempDir('aps-held-migration-');
    const file = join(dir, 'aps.sqlite');
    const old = new Database(file);
    for (const m of MIGRATIONS.slice(0, 8)) old.exec(m);
    old.pragma('user_version = 8');
    old
      .prepare('INSERT INTO window_held (device_id, key, artifact_id, sha256, bytes, first_at, at) VALUES (?, ?, NULL, ?, ?, ?, ?)')
      .run('frank', 'file:cfg', 'abc', Buffer.from(`password=${SECRET}\n`.repeat(500)), '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    old.close();
    // Large enough to take overflow pages: freed pages keep their content unless SQLite zeroes them.
    assert.ok(readFileSync(file).includes(SECRET));

    const core = openTestCore({ dataDir: dir });
    try {
      const held = core.store.windows.held('frank', 'file:cfg');
      assert.deepEqual({ sha256: held?.sha256, bytes: held?.bytes }, { sha256: 'abc', bytes: null });
      assert.equal(core.windows.heldFile('frank', 'cfg'), undefined);
      core.store.db.pragma('wal_checkpoint(TRUNCATE)');
      assert.equal(readFileSync(file).includes(SECRET), false, 'the password is still in the database file');
    } finally {
      core.close();
    }
  });
});
