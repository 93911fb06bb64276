import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { NIGHTLY, TestClock, profilesWith } from '../../test/helpers/windows.ts';
import { initialState, runCpeSession, type CpeOptions, type SessionResult } from './simulator.ts';
import { startConnectionRequestServer, type ConnectionRequestServer } from './simulator-cr.ts';

function image(version: string): Buffer {
  const payload = Buffer.alloc(2000, 5);
  return Buffer.concat([Buffer.from(`APSFW ${version} ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
}

// Maintenance windows with the TR-069 CPE simulator: no Download outside the window, and the push at the
// window's start is a connection request to the CPE with a pending change only.
describe('TR-069 maintenance window (02:00-03:00 UTC, push at its start)', () => {
  const clock = new TestClock();
  let s: TestServer;
  const cpes: Record<string, CpeOptions> = {};
  const crs: ConnectionRequestServer[] = [];
  const pushed: string[] = [];
  const sessions: Array<Promise<SessionResult>> = [];

  before(async () => {
    clock.set('2026-01-13T12:00:00Z');
    s = await startTestServer(
      { profilesDir: profilesWith({ 'thomson-tr069': { window: { ...NIGHTLY, push: true } } }), windows: { checkSeconds: 3600 } },
      undefined,
      undefined,
      { clock },
    );
    for (const [id, model] of [
      ['CPW1', 'TG789'],
      ['CPW2', 'TG784'],
    ] as const) {
      s.core.devices.upsert({
        id,
        profile: 'thomson-tr069',
        model,
        password: `${id}-pw`,
        vars: { cr_username: 'cr', cr_password: 'crpw' },
      });
      const cpe: CpeOptions = { acs: `${s.http}/tr069`, serial: id, productClass: model, password: `${id}-pw`, state: initialState('1.0') };
      const cr = await startConnectionRequestServer({
        username: 'cr',
        password: 'crpw',
        onRequest: () => {
          pushed.push(id);
          sessions.push(runCpeSession(cpe, ['6 CONNECTION REQUEST']));
        },
      });
      cpe.connectionRequestUrl = cr.url;
      crs.push(cr);
      cpes[id] = cpe;
    }
  });
  after(async () => {
    for (const cr of crs) await cr.close();
    await s.stop();
  });

  it('factory-new CPEs get their config at once, outside the window', async () => {
    for (const id of ['CPW1', 'CPW2']) {
      const r = await runCpeSession(cpes[id]!);
      assert.equal(r.error, undefined);
      assert.deepEqual(
        r.downloads.map((d) => d.fileType),
        ['3 Vendor Configuration File'],
      );
    }
  });

  it('outside the window: no Download for a new firmware or a changed config', async () => {
    clock.set('2026-01-14T12:00:00Z');
    await s.core.catalog.addBuffer(image('2.0'), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '2.0',
      models: ['TG789'],
      filename: 'fw2.bin',
    });
    s.core.devices.upsert({ id: 'CPW1', vars: { conf_version: '1.1' } });
    const r = await runCpeSession(cpes.CPW1!);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.downloads, []);
    assert.equal(cpes.CPW1!.state!.softwareVersion, '1.0');
    assert.equal(cpes.CPW1!.state!.configVersion, '1.0');
  });

  it('at the window start only the CPE with a pending change gets a connection request, and then its Downloads', async () => {
    clock.set('2026-01-15T02:00:05Z');
    assert.equal(await s.windowPush.check(), 1);
    await s.windowPush.idle();
    const pushEvent = (): string | undefined => {
      s.core.events.flush();
      return s.core.store.state.events({ deviceId: 'CPW1', limit: 100 }).find((e) => e.file === 'window:push')?.detail ?? undefined;
    };
    // On failure, what the push itself recorded says why (no URL known, a refused credential…).
    assert.deepEqual(pushed, ['CPW1'], pushEvent());
    const first = await sessions[0]!;
    assert.equal(first.error, undefined);
    assert.ok(first.informEvents.includes('6 CONNECTION REQUEST'));
    assert.deepEqual(first.downloads.map((d) => d.fileType).sort(), ['1 Firmware Upgrade Image', '3 Vendor Configuration File']);
    // The firmware reboots the CPE; its next session (still inside the window) completes the transfer.
    assert.equal((await runCpeSession(cpes.CPW1!)).error, undefined);
    assert.equal(cpes.CPW1!.state!.softwareVersion, '2.0');
    assert.equal(cpes.CPW1!.state!.configVersion, '1.1');
    assert.match(pushEvent() ?? '', /window opened/);
  });

  it('the same window start is not pushed twice', async () => {
    assert.equal(await s.windowPush.check(), 0);
  });
});
