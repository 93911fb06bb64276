import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { innovaphoneAdapter } from './index.ts';
import { runPoll, type SimOptions } from './simulator.ts';

// The "Done when", driven by the simulator against a real server: one IP1200 DECT base through
// its life (first poll, unchanged poll, new build, update window, backups) and a factory-fresh IP232
// under times /initial. The simulator's clock hour and uptime are set per poll, so nothing waits.

const MAC_A = '00-90-33-01-02-03';
const MAC_B = '00-90-33-0a-0b-0c';

describe('innovaphone end to end: scripts, firmware, config and backups', () => {
  let s: TestServer;
  let a: SimOptions;
  let url: string;

  before(async () => {
    s = await startTestServer();
    const c = s.core;
    c.devices.upsert({ id: 'dect1', profile: 'innovaphone-ip1200', mac: MAC_A });
    await c.catalog.addBuffer(Buffer.alloc(5000, 1), {
      kind: 'bootstrap',
      profile: 'innovaphone-ip1200',
      version: '205',
      filename: 'boot1200.bin',
    });
    await c.catalog.addBuffer(Buffer.alloc(70_000, 2), {
      kind: 'firmware',
      profile: 'innovaphone-ip1200',
      version: '13r3-5656',
      filename: 'ip1200.bin',
    });
    await c.catalog.addBuffer(Buffer.alloc(3000, 3), {
      kind: 'aux',
      role: 'bmc',
      profile: 'innovaphone-ip1200',
      version: 'PCS04fd',
      filename: 'bmc1200',
    });
    // What `aps device show dect1 --json` prints: the URL to enter on the device.
    const shown = (await (await fetch(`${s.http}/api/v1/devices/dect1`, { headers: { authorization: s.auth } })).json()) as {
      setup: { url: string };
    };
    url = shown.setup.url;
    a = { url, product: 'IP1200', mac: MAC_A, stateDir: tempDir(), hour: 12, uptimeMinutes: 60, bmcName: 'bmc1200' };
  });
  after(async () => {
    await s.stop();
  });

  it('gives setup.url: an IP address, the placeholders, a final "/"', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/innovaphone\/up\/#m\/#h\/#t\/#i\/$/);
  });

  it('first poll: loads boot code, firmware, BMC and config, uploads a backup, stores the check serial', async () => {
    const r = await runPoll(a);
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(r.loaded, { boot: '205', firmware: '13r3-5656', bmc: 'PCS04fd', config: r.loaded.config });
    assert.ok(r.loaded.config);
    assert.equal(r.backup?.status, 201);
    assert.match(r.backup!.url, /\/backup\/00-90-33-01-02-03\/[\w-]+\/0\/\d{8}-\d{6}$/, '#m, #b5 and #d replaced');
    assert.equal(r.stoppedBy, 'end');
    assert.equal(r.reset, 'ireset', 'reset when idle after the downloads');
    assert.ok(r.bytes > 5000 + 70_000 + 3000, 'boot, firmware, BMC and config bytes');
    const backups = s.core.backups.list('dect1');
    assert.equal(backups.length, 1);
    assert.equal(backups[0]!.slot, 0);
    s.core.events.flush();
    const state = s.core.devices.state('dect1')!;
    assert.equal(state.fetched.firmware?.version, '13r3-5656');
    assert.equal(state.reported.hardwareId, 'IP1200-01-02-03', '#h reported');
  });

  it('aps preview shows the script, the artifacts and the config without moving a revision', async () => {
    const get = async (): Promise<Array<{ name: string; text?: string; serial?: number }>> =>
      (await (await fetch(`${s.http}/api/v1/devices/dect1/preview`, { headers: { authorization: s.auth } })).json()) as Array<{
        name: string;
        text?: string;
        serial?: number;
      }>;
    const files = await get();
    assert.deepEqual(
      files.map((f) => f.name),
      ['update-ip1200.htm', 'boot1200.bin', 'ip1200.bin', 'bmc1200', 'config.txt'],
    );
    assert.match(files[0]!.text!, /^mod cmd UP1 times \/initial 6\r\n/);
    assert.match(files[0]!.text!, /mod cmd UP1 check iresetn \d+\r\n$/);
    assert.deepEqual(await get(), files);
  });

  it('an unchanged second poll is skipped by check (and reports what the device runs)', async () => {
    const r = await runPoll(a);
    assert.equal(r.ok, true, r.error);
    assert.equal(r.stoppedBy, 'check');
    assert.deepEqual(r.loaded, {});
    assert.equal(r.backup, undefined);
    assert.ok(!r.executed.some((l) => / prot | boot | bmc /.test(l)), 'downloads the device reports are left out');
    s.core.events.flush();
    const reported = s.core.devices.state('dect1')!.reported;
    assert.equal(reported.firmware, '13r3-5656');
    assert.equal(reported.boot, '205');
    assert.equal(s.core.backups.list('dect1').length, 1);
  });

  it('a new firmware build is loaded once', async () => {
    await s.core.catalog.addBuffer(Buffer.alloc(71_000, 4), {
      kind: 'firmware',
      profile: 'innovaphone-ip1200',
      version: '13r3-5700',
      filename: 'ip1200.bin',
    });
    const first = await runPoll(a);
    assert.equal(first.ok, true, first.error);
    assert.deepEqual(first.loaded, { firmware: '13r3-5700' });
    assert.equal(first.reset, 'ireset');
    const again = await runPoll(a);
    assert.equal(again.stoppedBy, 'check');
    assert.deepEqual(again.loaded, {});
  });

  it('scfg /force: a week later the device backs up again though nothing changed', async () => {
    const week = await runPoll({ ...a, now: () => new Date(Date.now() + 169 * 3600_000) });
    assert.equal(week.ok, true, week.error);
    assert.equal(week.stoppedBy, 'check', 'nothing else changed');
    assert.equal(week.backup?.status, 201);
    assert.deepEqual(week.loaded, {});
  });

  it('a factory-fresh device already running the target build loads no firmware (UPDATE/PROT empty: ver counts)', async () => {
    s.core.devices.upsert({ id: 'dect2', profile: 'innovaphone-ip1200', mac: '00-90-33-02-02-02' });
    const r = await runPoll({ ...a, mac: '00-90-33-02-02-02', stateDir: tempDir(), initialFirmware: '13r3-5700' });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.loaded.firmware, undefined);
    assert.equal(r.loaded.boot, '205');
  });

  it('outside the /allow hours nothing runs; inside them the changed script does', async () => {
    s.core.devices.upsert({ id: 'dect1', vars: { update_allow_hours: '23,0,1,2,3,4' } }, 'update');
    const out = await runPoll({ ...a, hour: 12 });
    assert.equal(out.stoppedBy, 'times');
    assert.deepEqual(out.loaded, {});
    assert.equal(out.executed.length, 1, 'only the times line ran');
    assert.match(out.executed[0]!, /^mod cmd UP1 times \/allow 23,0,1,2,3,4 \/initial 6$/);
    const inside = await runPoll({ ...a, hour: 2 });
    assert.equal(inside.ok, true, inside.error);
    assert.equal(inside.stoppedBy, 'end', 'the new check serial was not the stored one');
  });

  it('backups accumulate with the rolling index, diff without volatile lines, and restore as the next cfg', async () => {
    const already = s.core.backups.list('dect1').length;
    const slots: number[] = [];
    for (let i = 0; i < 5; i++) {
      s.core.devices.upsert({ id: 'dect1', vars: { timezone: `ZONE${i}` } }, 'update');
      const r = await runPoll({ ...a, hour: 2 });
      assert.equal(r.ok, true, r.error);
      assert.ok(r.loaded.config, 'the new config was loaded');
      assert.equal(r.backup?.status, 201);
      slots.push(Number(/\/(\d)\/\d{8}-\d{6}$/.exec(r.backup!.url)![1]));
    }
    // Every backup so far took the next index; it loops over 0..4 (#b5).
    const expected = [0, 1, 2, 3, 4].map((k) => (already + k) % 5);
    assert.deepEqual(slots, expected);
    const list = s.core.backups.list('dect1');
    assert.equal(list.length, already + 5);
    assert.deepEqual(
      list.slice(0, 5).map((b) => b.slot),
      [...expected].reverse(),
    );
    const [latest, previous] = list;
    const diff = s.core.backups.diff('dect1', previous!.seq, latest!.seq, innovaphoneAdapter.backupVolatile);
    assert.match(diff, /^-config change TIME0 \/tz ZONE3 /m);
    assert.match(diff, /^\+config change TIME0 \/tz ZONE4 /m);
    assert.ok(!/UPDATE\/|config change UP1/.test(diff), `volatile lines ignored:\n${diff}`);

    // Restore the backup taken with ZONE1: the next cfg command serves exactly its bytes.
    const zone1 = list.find((b) => s.core.backups.read('dect1', b.seq).toString('utf8').includes('/tz ZONE1 '))!;
    await s.core.backups.restore('dect1', zone1.seq, 'test');
    const r = await runPoll({ ...a, hour: 2 });
    assert.equal(r.ok, true, r.error);
    assert.ok(r.loaded.config);
    const served = await fetch(`${s.http}/innovaphone/cfg/009033010203/config.txt`);
    assert.equal(Buffer.from(await served.arrayBuffer()).toString('utf8'), s.core.backups.read('dect1', zone1.seq).toString('utf8'));
  });

  it('within /initial after a boot nothing runs; after it a factory-fresh device runs even outside /allow', async () => {
    s.core.devices.upsertGroup({ name: 'office', vars: { update_allow_hours: '2,3' }, pins: {} });
    s.core.devices.upsert({ id: 'phone1', profile: 'innovaphone-ip232', mac: MAC_B, group: 'office' });
    const b: SimOptions = { url, product: 'IP232', mac: MAC_B, stateDir: tempDir(), hour: 12 };
    const early = await runPoll({ ...b, uptimeMinutes: 3 });
    assert.equal(early.stoppedBy, 'initial');
    assert.deepEqual(early.loaded, {});
    assert.equal(early.backup, undefined);
    const fresh = await runPoll({ ...b, uptimeMinutes: 7 });
    assert.equal(fresh.ok, true, fresh.error);
    assert.equal(fresh.stoppedBy, 'end');
    assert.ok(fresh.loaded.config, 'the site config was loaded outside the allowed hours');
    assert.equal(fresh.backup?.status, 201);
    // No longer factory-fresh (UPDATE/CHECK is set): a changed script now waits for the allowed hours.
    s.core.devices.upsert({ id: 'phone1', vars: { timezone: 'UTC' } }, 'update');
    const later = await runPoll({ ...b, uptimeMinutes: 60 });
    assert.equal(later.stoppedBy, 'times');
    assert.deepEqual(later.loaded, {});
  });
});
