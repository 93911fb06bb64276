import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/server.ts';
import { openStore, type Store } from '../store/index.ts';
import { DeviceRegistry } from './registry.ts';
import { Keyring } from './secrets.ts';

describe('DeviceRegistry credentials', () => {
  let store: Store;
  let devices: DeviceRegistry;

  before(() => {
    const dir = tempDir('aps-registry-');
    store = openStore(dir);
    devices = new DeviceRegistry(store, Keyring.load(dir), { needsClearSecret: () => false, assertProfile: () => undefined, credentialCacheMs: 60_000 });
  });
  after(() => store.close());

  it('refuses wrong and remembered-wrong passwords, and still accepts the right one afterwards', async () => {
    const d = devices.upsert({ id: 'u1', profile: 'p', password: 'right' });
    assert.equal(await devices.verifyPassword(d, 'wrong'), false);
    assert.equal(await devices.verifyPassword(d, 'wrong'), false, 'a remembered failure is still a failure');
    assert.equal(await devices.verifyPassword(d, 'right'), true, 'a failure of one password never blocks another');
    assert.equal(await devices.verifyPassword(d, 'right'), true);
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
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => devices.rejectUnknown(`ghost${i}`, 'x')));
    assert.deepEqual(many, Array(8).fill(false));
  });
});
