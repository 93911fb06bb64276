import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { legacyScryptHash as scryptHash } from '../../test/helpers/legacy-hash.ts';
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

  const storedHash = (id: string): string | null => store.devices.get(id)?.passwordHash ?? null;
  const settle = (): Promise<void> => new Promise((res) => setImmediate(res));

  it('stores a keyed hash: no clear password, different for the same password, verified without scrypt', async () => {
    const a = devices.upsert({ id: 'k1', profile: 'p', password: 'same-password' });
    const b = devices.upsert({ id: 'k2', profile: 'p', password: 'same-password' });
    assert.match(a.passwordHash!, /^hmac\$/);
    assert.notEqual(a.passwordHash, b.passwordHash, 'a salt per device');
    assert.ok(!a.passwordHash!.includes('same-password'));
    const st0 = devices.passwordCheckStats();
    assert.equal(await devices.verifyPassword(a, 'same-password'), true);
    assert.equal(await devices.verifyPassword(a, 'other'), false);
    assert.equal(await devices.verifyPassword(a, ''), false);
    const st = devices.passwordCheckStats();
    assert.equal(st.checked, st0.checked + 3);
    assert.equal(st.hashed, st0.hashed, 'no scrypt run');
  });

  it('a keyed hash is worthless without the key file: another data folder refuses the right password', async () => {
    const d = devices.upsert({ id: 'k3', profile: 'p', password: 'pw-k3' });
    const otherDir = tempDir('aps-registry-other-');
    const otherStore = openStore(otherDir);
    try {
      const other = new DeviceRegistry(otherStore, Keyring.load(otherDir), {
        needsClearSecret: () => false,
        assertProfile: () => undefined,
        credentialCacheMs: 0,
      });
      otherStore.devices.upsert(d); // the stolen row, hash and all
      assert.equal(await other.verifyPassword(other.get('k3')!, 'pw-k3'), false);
    } finally {
      otherStore.close();
    }
  });

  it('verifies an old scrypt hash, then rewrites it as a keyed hash after the first success', async () => {
    const d = devices.upsert({ id: 'old1', profile: 'p' });
    store.devices.upsert({ ...d, passwordHash: scryptHash('old-pw') }); // as an older APS wrote it
    const hashed = (): number => devices.passwordCheckStats().hashed;
    const h0 = hashed();
    assert.equal(await devices.verifyPassword(devices.get('old1')!, 'wrong'), false);
    await settle();
    assert.match(storedHash('old1')!, /^scrypt\$/, 'a failure rewrites nothing');
    assert.equal(await devices.verifyPassword(devices.get('old1')!, 'wrong'), false, 'a remembered failure is still a failure');
    assert.equal(hashed(), h0 + 1, 'and costs no scrypt run');
    assert.equal(await devices.verifyPassword(devices.get('old1')!, 'old-pw'), true);
    assert.equal(hashed(), h0 + 2);
    await settle();
    assert.match(storedHash('old1')!, /^hmac\$/, 'rewritten after the success');
    assert.equal(await devices.verifyPassword(devices.get('old1')!, 'old-pw'), true);
    assert.equal(await devices.verifyPassword(devices.get('old1')!, 'wrong'), false);
    assert.equal(hashed(), h0 + 2, 'the keyed hash needs no scrypt');
  });

  it('a rewrite never overwrites a password changed meanwhile', async () => {
    const d = devices.upsert({ id: 'old2', profile: 'p' });
    store.devices.upsert({ ...d, passwordHash: scryptHash('old-pw') });
    assert.equal(await devices.verifyPassword(devices.get('old2')!, 'old-pw'), true);
    devices.upsert({ id: 'old2', password: 'new-pw' }); // before the deferred rewrite runs
    await settle();
    assert.equal(await devices.verifyPassword(devices.get('old2')!, 'new-pw'), true);
    assert.equal(await devices.verifyPassword(devices.get('old2')!, 'old-pw'), false);
  });

  it('setting the same password again keeps an old hash (apply re-run), and a new one replaces it', async () => {
    const d = devices.upsert({ id: 'old3', profile: 'p' });
    const old = scryptHash('pw3');
    store.devices.upsert({ ...d, passwordHash: old });
    devices.upsert({ id: 'old3', password: 'pw3' });
    assert.equal(storedHash('old3'), old);
    const prepared = await devices.prepareCredentials({ id: 'old3', profile: 'p', password: 'pw3' });
    assert.equal(prepared.credentials?.passwordHash, old);
    devices.upsert({ id: 'old3', password: 'pw4' });
    assert.match(storedHash('old3')!, /^hmac\$/);
    const again = await devices.prepareCredentials({ id: 'old3', profile: 'p', password: 'pw4' });
    assert.equal(again.credentials?.passwordHash, storedHash('old3'), 'a keyed hash is recognised too');
  });

  it('refuses unknown users through a check that costs what a known one does', async () => {
    const before = devices.passwordCheckStats();
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => devices.rejectUnknown(`ghost${i}`, 'x')));
    assert.deepEqual(many, Array(8).fill(false));
    const st = devices.passwordCheckStats();
    assert.equal(st.checked, before.checked + 8, 'each unknown user costs a real check');
    assert.equal(st.hashed, before.hashed, 'a keyed one, as a known device');
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
