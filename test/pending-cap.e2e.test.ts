import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bootPhone } from '../adapters/avaya/simulator.ts';
import { runPoll } from '../adapters/innovaphone/simulator.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

// Unknown devices register themselves as pending up to the family's maxPending; the count is the family's
// pending devices in the store (one indexed query, migration 10), so an approved device frees its place and
// another family's pending devices take none.
describe('maxPending caps self-registration per family', () => {
  let s: TestServer;
  const sims = tempDir();
  const innovaphone = (mac: string): ReturnType<typeof runPoll> =>
    runPoll({ url: `${s.http}/innovaphone/up/#m/`, product: 'IP6010', mac, stateDir: join(sims, mac), uptimeMinutes: 30 });
  const avaya = (mac: string): ReturnType<typeof bootPhone> => bootPhone({ server: s.http, model: 'J179', mac, stateDir: join(sims, mac) });
  const pending = (adapter: string): string[] =>
    s.core.devices
      .list()
      .filter((d) => d.status === 'pending' && s.core.adapterNameOf(d.profile) === adapter)
      .map((d) => d.id)
      .sort();

  before(async () => {
    s = await startTestServer({ adapters: { innovaphone: { maxPending: 2 }, avaya: { maxPending: 2 } } });
  });
  after(() => s.stop());

  it('innovaphone: the third unknown device waits outside until one is approved', async () => {
    for (const mac of ['009033000001', '009033000002', '009033000003']) await innovaphone(mac);
    assert.deepEqual(pending('innovaphone'), ['009033000001', '009033000002']);
    assert.equal(s.core.devices.getByMac('009033000003'), undefined, 'not registered past the cap');
    s.core.devices.upsert({ id: '009033000001', status: 'active' });
    await innovaphone('009033000003');
    assert.deepEqual(pending('innovaphone'), ['009033000002', '009033000003']);
  });

  it("avaya: counts its own pending phones only, not innovaphone's", async () => {
    assert.equal(pending('innovaphone').length, 2, 'two innovaphone devices wait');
    for (const mac of ['00e0bb000001', '00e0bb000002', '00e0bb000003']) await avaya(mac);
    assert.deepEqual(pending('avaya'), ['00e0bb000001', '00e0bb000002']);
    assert.equal(s.core.devices.getByMac('00e0bb000003'), undefined, 'not registered past the cap');
  });
});
