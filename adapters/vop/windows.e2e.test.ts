import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { NIGHTLY, TestClock, profilesWith } from '../../test/helpers/windows.ts';
import { runVopCycle, type VopSimOptions } from './simulator.ts';

// Maintenance windows with the VOP simulator: the info file stays byte-identical outside the window.
describe('VOP maintenance window (every day 02:00-03:00 UTC)', () => {
  const clock = new TestClock();
  let s: TestServer;
  let sim: VopSimOptions;
  const firmware = (n: number, version: string): Promise<unknown> =>
    s.core.catalog.addBuffer(Buffer.alloc(10_000, n), { kind: 'firmware', profile: 'vop', version, serial: n, filename: `fw${n}.bin` });

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    const profiles = profilesWith({ vop: { window: NIGHTLY } });
    // Templates see the window too (the parts that do not move with the clock).
    appendFileSync(join(profiles, 'templates', 'vop-user.conf.hbs'), 'update_window={{window.startTime}} hours={{window.hours}}\n');
    s = await startTestServer({ profilesDir: profiles }, undefined, undefined, { clock });
    s.core.devices.upsert({ id: 'op1', profile: 'vop', password: 'pw-1' });
    await firmware(1, '1.0');
    sim = { server: s.http, user: 'op1', password: 'pw-1', stateDir: tempDir('aps-vop-win-') };
  });
  after(async () => {
    await s.stop();
  });

  it('a factory-new device is served at once, outside its window', async () => {
    const r = await runVopCycle(sim);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.installed, ['firmware', 'config']);
    assert.match(readFileSync(join(sim.stateDir, 'config'), 'utf8'), /^update_window=02:00 hours=2$/m);
  });

  it('outside the window, a new firmware and a changed variable change nothing: the same info file', async () => {
    clock.set('2026-01-14T12:00:00Z'); // a window has come and gone: op1 is no longer new
    const infoBefore = readFileSync(join(sim.stateDir, 'info.xml'));
    await firmware(2, '2.0');
    s.core.devices.upsert({ id: 'op1', vars: { language: 'fr' } });
    const r = await runVopCycle(sim);
    assert.deepEqual(r.installed, []);
    assert.equal(r.bytes, 0);
    assert.deepEqual(readFileSync(join(sim.stateDir, 'info.xml')), infoBefore, 'byte-identical info file');
    assert.equal(readFileSync(join(sim.stateDir, 'firmware'))[0], 1, 'old firmware kept');
    const view = (await (await fetch(`${s.http}/api/v1/devices/op1`, { headers: { authorization: s.auth } })).json()) as {
      window: { open: boolean; nextStart: string; pending: string[] };
    };
    assert.equal(view.window.open, false);
    assert.equal(view.window.nextStart, '2026-01-15T02:00:00.000Z');
    assert.deepEqual(view.window.pending, ['firmware']);
  });

  it('inside the window the device gets the new firmware and config', async () => {
    clock.set('2026-01-15T02:10:00Z');
    const r = await runVopCycle(sim);
    assert.deepEqual(r.installed, ['firmware', 'config']);
    assert.equal(readFileSync(join(sim.stateDir, 'firmware'))[0], 2);
    assert.match(readFileSync(join(sim.stateDir, 'config'), 'utf8'), /language=fr/);
  });

  it('after the window, what it got stays what it gets', async () => {
    clock.set('2026-01-15T12:00:00Z');
    await firmware(3, '3.0');
    const r = await runVopCycle(sim);
    assert.deepEqual(r.installed, []);
    assert.equal(readFileSync(join(sim.stateDir, 'firmware'))[0], 2);
  });

  it('another factory-new device outside the window gets the newest at once', async () => {
    s.core.devices.upsert({ id: 'op2', profile: 'vop', password: 'pw-2' });
    const r = await runVopCycle({ server: s.http, user: 'op2', password: 'pw-2', stateDir: tempDir('aps-vop-win-') });
    assert.deepEqual(r.installed, ['firmware', 'config']);
    assert.equal(r.info?.firmware?.serial !== undefined, true);
  });
});

describe('VOP window with newDevices: wait', () => {
  const clock = new TestClock();
  let s: TestServer;
  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer(
      { profilesDir: profilesWith({ vop: { window: { ...NIGHTLY, newDevices: 'wait' } } }) },
      undefined,
      undefined,
      {
        clock,
      },
    );
    s.core.devices.upsert({ id: 'op9', profile: 'vop', password: 'pw-9' });
    await s.core.catalog.addBuffer(Buffer.alloc(1000, 7), { kind: 'firmware', profile: 'vop', version: '1', serial: 1, filename: 'f.bin' });
  });
  after(async () => {
    await s.stop();
  });

  it('a new device gets no firmware until its window opens', async () => {
    const sim = { server: s.http, user: 'op9', password: 'pw-9', stateDir: tempDir('aps-vop-win-') };
    assert.deepEqual((await runVopCycle(sim)).installed, ['config']);
    clock.set('2026-01-14T02:30:00Z');
    assert.deepEqual((await runVopCycle(sim)).installed, ['firmware']);
  });
});
