import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AudioCodesSimulator } from '../adapters/audiocodes/simulator.ts';
import { initialState, runCpeSession } from '../adapters/tr069/simulator.ts';
import { runVopCycle } from '../adapters/vop/simulator.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

// The mission in one test: one server, one catalog, three device families each updated the way its own
// firmware expects, all visible in one fleet view, one event log and one /metrics.
describe('a mixed-vendor site on one APS', () => {
  let s: TestServer;
  const api = async <T>(path: string): Promise<T> =>
    (await (await fetch(`${s.http}/api/v1${path}`, { headers: { authorization: s.auth } })).json()) as T;

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'panel1', profile: 'vop', password: 'vop-pw' });
    s.core.devices.upsert({ id: 'gw1', profile: 'audiocodes-mp124', mac: '00908F000001', model: 'MP-124' });
    s.core.devices.upsert({ id: 'CPE1', profile: 'thomson-tr069', password: 'cpe-pw' });
    await s.core.catalog.addBuffer(Buffer.from('vop firmware 7'), {
      kind: 'firmware',
      profile: 'vop',
      version: '7.0',
      serial: 70,
      filename: 'vop-7.0.bin',
    });
    await s.core.catalog.addBuffer(Buffer.alloc(4096, 5), {
      kind: 'firmware',
      profile: 'audiocodes-mp124',
      version: '6.60A.400.001',
      filename: 'MP124_SIP.cmp',
    });
    const payload = Buffer.alloc(2048, 6);
    const image = Buffer.concat([Buffer.from(`APSFW 2.0 ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
    await s.core.catalog.addBuffer(image, { kind: 'firmware', profile: 'thomson-tr069', version: '2.0', filename: 'tg784-2.0.bin' });
  });
  after(async () => {
    await s.stop();
  });

  it('updates every family from the one catalog and reports them in one fleet view', async () => {
    const vop = await runVopCycle({ server: s.http, user: 'panel1', password: 'vop-pw', stateDir: tempDir() });
    assert.equal(vop.error, undefined);
    assert.ok(vop.installed.includes('firmware'));

    const gw = new AudioCodesSimulator({ iniUrl: `${s.http}/audiocodes/<MAC>.ini`, mac: '00908f000001', firmware: '6.60A.349.001' });
    const g = await gw.check();
    assert.deepEqual(g.errors, []);
    assert.equal(g.cmp, 'installed');

    const state = initialState('1.0');
    const cpe = { acs: `${s.http}/tr069`, serial: 'CPE1', password: 'cpe-pw', state };
    const first = await runCpeSession(cpe);
    assert.equal(first.error, undefined);
    assert.ok(first.downloads.some((d) => d.fileType === '1 Firmware Upgrade Image'));
    const second = await runCpeSession(cpe); // the firmware's TransferComplete comes after the "reboot"
    assert.equal(second.error, undefined);
    assert.equal(state.softwareVersion, '2.0');
    await gw.check(); // after its reset, the gateway reports the new version in its User-Agent

    s.core.events.flush();
    // Issue 9 §12: the per-version counts are now `versions` beside the per-device and per-profile views.
    const fleet = (await api<{ versions: Array<{ profile: string; version: string; basis: string | null; devices: number }> }>('/fleet'))
      .versions;
    const versionOf = (profile: string): string | undefined => {
      const row = fleet.find((f) => f.profile === profile);
      return row && `${row.version} (${row.basis})`;
    };
    // The VOP never says what it runs: its column is the firmware it last downloaded, and says so.
    assert.equal(versionOf('vop'), '7.0 (fetched)');
    assert.equal(versionOf('audiocodes-mp124'), '6.60A.400.001 (reported)');
    assert.equal(versionOf('thomson-tr069'), '2.0 (reported)');

    const { items: events } = await api<{ items: Array<{ adapter: string; status: number }> }>('/events?limit=500');
    for (const adapter of ['vop', 'audiocodes', 'tr069'])
      assert.ok(
        events.some((e) => e.adapter === adapter && e.status === 200),
        `${adapter} events`,
      );
    const metrics = await (await fetch(`${s.http}/metrics`)).text();
    for (const adapter of ['vop', 'audiocodes', 'tr069'])
      assert.match(metrics, new RegExp(`aps_device_requests_total\\{adapter="${adapter}",status="200"\\} \\d+`));
  });
});
