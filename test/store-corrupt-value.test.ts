import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestServer, type TestServer } from './helpers/server.ts';

// Issue 13, defect 10: a corrupt JSON column was read as its default without a word (a device's pins as {}
// would hand it another firmware). Now it is refused where it is read, named in the error and the log, and
// counted in /metrics, as are events the sink could not write.
describe('a corrupt value in the store', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'ok-vop', profile: 'vop', password: 'pw-ok' });
    s.core.devices.upsert({ id: 'bad-vop', profile: 'vop', password: 'pw-bad' });
    const db = new Database(join(s.core.config.dataDir, 'aps.sqlite'));
    db.prepare("UPDATE devices SET pins = '{\"firmware\": 1' WHERE id = 'bad-vop'").run(); // cut short
    db.close();
  });
  after(async () => {
    await s.stop();
  });

  it('is refused with an error naming it, never read as its default, and counted in /metrics', async () => {
    const device = await fetch(`${s.http}/vop/i?u=bad-vop&p=pw-bad`);
    assert.equal(device.status, 500);
    const body = await device.text();
    assert.ok(!/corrupt|pins|bad-vop/.test(body), 'the device gets the fixed body, nothing of the store');
    assert.equal((await fetch(`${s.http}/vop/i?u=ok-vop&p=pw-ok`)).status, 200, 'other devices are served');

    const api = await fetch(`${s.http}/api/v1/devices/bad-vop`, { headers: { authorization: s.auth } });
    assert.equal(api.status, 500);
    const err = (await api.json()) as { error: string; message: string };
    assert.equal(err.error, 'corrupt_data');
    assert.match(err.message, /corrupt value \(devices\.pins of bad-vop\)/);

    s.core.events.flush();
    const m = await (await fetch(`${s.http}/metrics`)).text();
    assert.match(m, /^aps_store_corrupt_values_total [1-9]\d*$/m);
    assert.match(m, /^aps_events_dropped_total 0$/m);
    assert.match(m, /^aps_events_written_total [1-9]\d*$/m);
    assert.match(m, /^aps_events_queued 0$/m);
    assert.match(m, /^aps_devices\{profile="vop"\} 2$/m);
  });
});
