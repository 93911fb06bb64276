import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { NIGHTLY, TestClock, profilesWith } from '../../test/helpers/windows.ts';
import { runPoll, type SimOptions } from './simulator.ts';

const MAC = '00-90-33-0e-0e-0e';

// Maintenance windows with the innovaphone simulator: the script carries `times /allow` from the window
// (so the device does not even ask outside it), and the core serves the unchanged script outside it.
describe('innovaphone maintenance window (02:00-03:00 UTC)', () => {
  const clock = new TestClock();
  let s: TestServer;
  let a: SimOptions;
  const script = async (): Promise<string> => {
    const files = (await (await fetch(`${s.http}/api/v1/devices/dect9/preview`, { headers: { authorization: s.auth } })).json()) as Array<{
      name: string;
      text?: string;
    }>;
    return files[0]!.text!;
  };

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer({ profilesDir: profilesWith({ 'innovaphone-ip1200': { window: NIGHTLY } }) }, undefined, undefined, {
      clock,
    });
    s.core.devices.upsert({ id: 'dect9', profile: 'innovaphone-ip1200', mac: MAC });
    await s.core.catalog.addBuffer(Buffer.alloc(7000, 2), {
      kind: 'firmware',
      profile: 'innovaphone-ip1200',
      version: '13r3-1',
      filename: 'ip1200.bin',
    });
    const shown = (await (await fetch(`${s.http}/api/v1/devices/dect9`, { headers: { authorization: s.auth } })).json()) as {
      setup: { url: string };
    };
    a = { url: shown.setup.url, product: 'IP1200', mac: MAC, stateDir: tempDir(), hour: 12, uptimeMinutes: 60 };
  });
  after(async () => {
    await s.stop();
  });

  it('the script allows the window hours; a factory-fresh device is served at once', async () => {
    assert.match(await script(), /^mod cmd UP1 times \/allow 2 \/initial 6\r\n/);
    const r = await runPoll(a);
    assert.equal(r.ok, true, r.error);
    assert.equal(r.loaded.firmware, '13r3-1');
    assert.ok(r.loaded.config);
  });

  it('outside the window: the device does not ask at 12:00, and a skewed clock gets the unchanged script', async () => {
    clock.set('2026-01-14T12:00:00Z');
    await s.core.catalog.addBuffer(Buffer.alloc(7000, 3), {
      kind: 'firmware',
      profile: 'innovaphone-ip1200',
      version: '13r3-2',
      filename: 'ip1200.bin',
    });
    s.core.devices.upsert({ id: 'dect9', vars: { timezone: 'ZONE9' } }, 'update');
    const noon = await runPoll(a);
    assert.equal(noon.stoppedBy, 'times');
    const skewed = await runPoll({ ...a, hour: 2 });
    assert.equal(skewed.ok, true, skewed.error);
    assert.equal(skewed.stoppedBy, 'check', 'the same check serial: nothing to do');
    assert.deepEqual(skewed.loaded, {});
  });

  it('inside the window the new firmware and config are loaded', async () => {
    clock.set('2026-01-15T02:10:00Z');
    const r = await runPoll({ ...a, hour: 2 });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.loaded.firmware, '13r3-2');
    assert.ok(r.loaded.config);
    const served = await fetch(`${s.http}/innovaphone/cfg/0090330e0e0e/config.txt`);
    assert.match(await served.text(), /ZONE9/);
  });
});
