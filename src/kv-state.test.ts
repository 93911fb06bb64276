import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from '../test/helpers/server.ts';
import { KvState } from './kv-state.ts';
import { openStore } from './store/index.ts';

describe('KvState entries by prefix', () => {
  it('lists exactly the live keys starting with the prefix: case-sensitive, % and _ literal, other namespaces apart', () => {
    const store = openStore(tempDir('aps-kv-'));
    try {
      const kv = new KvState(store, 'a');
      for (const k of ['dl:dev1:x', 'dl:dev1:y', 'dl:dev10:z', 'dl:DEV1:w', 'dl:de_1:v', 'dl:de%1:u', 'dm:other']) kv.set(k, k);
      kv.set('dl:dev1:gone', 'gone', -1); // already expired
      new KvState(store, 'b').set('dl:dev1:b', 'b');
      const keys = (prefix?: string): string[] => kv.entries<string>(prefix).map((e) => e.key);
      assert.deepEqual(keys('dl:dev1:'), ['dl:dev1:x', 'dl:dev1:y']);
      assert.deepEqual(keys('dl:dev1'), ['dl:dev10:z', 'dl:dev1:x', 'dl:dev1:y'], 'in key order');
      assert.deepEqual(keys('dl:de_1'), ['dl:de_1:v']);
      assert.deepEqual(keys('dl:de%'), ['dl:de%1:u']);
      assert.equal(keys().length, 7, 'no prefix: every live key of the namespace');
      assert.deepEqual(keys('dl:dev1:\uffff'), []);
    } finally {
      store.close();
    }
  });
});
