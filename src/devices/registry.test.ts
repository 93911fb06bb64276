import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../../test/helpers/server.ts';
import { openStore, type Store } from '../store/index.ts';
import { DeviceRegistry } from './registry.ts';
import { Keyring } from './secrets.ts';

describe('DeviceRegistry credentials', () => {
  let store: Store;
  let devices: DeviceRegistry;
  let dir: string;

  before(() => {
    dir = tempDir('aps-registry-');
    store = openStore(dir);
    devices = new DeviceRegistry(store, Keyring.load(dir), {
      needsClearSecret: () => false,
      assertProfile: () => undefined,
      credentialCacheMs: 60_000,
    });
  });
  after(() => store.close());

  it('refuses wrong and remembered-wrong passwords, and still accepts the right one afterwards', async () => {
    const d = devices.upsert({ id: 'u1', profile: 'p', password: 'right' });
    const hashed = (): number => devices.passwordCheckStats().hashed;
    const h0 = hashed();
    assert.equal(await devices.verifyPassword(d, 'wrong'), false);
    assert.equal(hashed(), h0 + 1);
    assert.equal(await devices.verifyPassword(d, 'wrong'), false, 'a remembered failure is still a failure');
    assert.equal(hashed(), h0 + 1, 'and costs no scrypt run');
    assert.equal(await devices.verifyPassword(d, 'right'), true, 'a failure of one password never blocks another');
    assert.equal(await devices.verifyPassword(d, 'right'), true);
    assert.equal(hashed(), h0 + 2, 'a remembered success costs none either');
  });

  it('forgets a remembered success when the password changes', async () => {
    const d = devices.upsert({ id: 'u2', profile: 'p', password: 'first' });
    assert.equal(await devices.verifyPassword(d, 'first'), true);
    const changed = devices.upsert({ id: 'u2', password: 'second' });
    assert.equal(await devices.verifyPassword(changed, 'first'), false);
    assert.equal(await devices.verifyPassword(changed, 'second'), true);
  });

  it('refuses unknown users through the same checks', async () => {
    assert.equal(await devices.rejectUnknown('ghost', 'whatever'), false);
    const before = devices.passwordCheckStats().hashed;
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => devices.rejectUnknown(`ghost${i}`, 'x')));
    assert.deepEqual(many, Array(8).fill(false));
    const st = devices.passwordCheckStats();
    assert.equal(st.hashed, before + 8, 'each unknown user costs a real check');
    assert.equal(st.peakRunning, 2, 'never more than two at once');
    assert.equal(st.queued, 0);
  });

  it('keeps secret-looking variables sealed in the database and clear for rendering', () => {
    devices.upsert({ id: 'sip1', profile: 'p', vars: { sip_password: 'sip-secret-1', language: 'de' } });
    devices.upsertGroup({ name: 'g-secret', vars: { auth_key: 'group-secret-2' }, pins: {} });
    assert.equal(devices.get('sip1')?.vars.sip_password, 'sip-secret-1');
    assert.equal(devices.list().find((d) => d.id === 'sip1')?.vars.sip_password, 'sip-secret-1');
    assert.equal(devices.group('g-secret')?.vars.auth_key, 'group-secret-2');
    const raw = (): string => {
      const db = new Database(join(dir, 'aps.sqlite'), { readonly: true });
      try {
        return JSON.stringify([db.prepare('SELECT * FROM devices').all(), db.prepare('SELECT * FROM groups').all()]);
      } finally {
        db.close();
      }
    };
    const before = raw();
    assert.ok(!before.includes('sip-secret-1') && !before.includes('group-secret-2'), 'no clear secret in the database file');
    assert.ok(before.includes('"language\\":\\"de'), 'other variables stay readable');
    // Writing the same values again writes the same bytes: no new box, no change for caches to notice.
    devices.upsert({ id: 'sip1', vars: { sip_password: 'sip-secret-1' } });
    devices.upsertGroup({ name: 'g-secret', vars: { auth_key: 'group-secret-2' }, pins: {} });
    assert.equal(raw(), before);
    devices.upsert({ id: 'sip1', vars: { sip_password: 'sip-secret-3' } });
    assert.equal(devices.get('sip1')?.vars.sip_password, 'sip-secret-3');
    assert.ok(!raw().includes('sip-secret-3'));
  });

  it('seals secret variables an older version stored in clear, once', () => {
    const d = devices.upsert({ id: 'legacy', profile: 'p' });
    store.devices.upsert({ ...d, vars: { sip_password: 'legacy-secret', language: 'en' } }); // as an older APS wrote it
    const raw = (): string => {
      const db = new Database(join(dir, 'aps.sqlite'), { readonly: true });
      try {
        return JSON.stringify(db.prepare("SELECT vars FROM devices WHERE id = 'legacy'").get());
      } finally {
        db.close();
      }
    };
    assert.ok(raw().includes('legacy-secret'));
    assert.equal(devices.get('legacy')?.vars.sip_password, 'legacy-secret', 'readable before sealing');
    assert.equal(devices.sealStoredSecrets(), 1);
    assert.ok(!raw().includes('legacy-secret'));
    assert.equal(devices.get('legacy')?.vars.sip_password, 'legacy-secret');
    assert.equal(devices.sealStoredSecrets(), 0, 'nothing left to seal');
  });
});
