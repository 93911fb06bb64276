// `aps simulate avaya` and `aps device show` as an operator runs them: separate processes against a
// running server and its data folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { APS_BIN, apsCli } from '../../test/helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { avayaAdapter } from './index.ts';
import { macPlus } from './simulator-command.ts';

describe('aps simulate avaya', () => {
  let s: TestServer;
  const state = tempDir('aps-avaya-cli-');
  const { aps, fails } = apsCli(() => ({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' }));

  before(async () => {
    s = await startTestServer({ adapters: { avaya: { sipTimers: { t1Ms: 50, t2Ms: 200, timerFMs: 5000 } } } });
    s.core.devices.upsertGroup({ name: '3', vars: { SNTPSRVR: 'ntp.example.net' }, pins: {} });
    s.core.devices.upsert({
      id: 'cli-16cc',
      profile: 'avaya-16cc',
      model: '16CC',
      mac: '00e0bb0016c0',
      group: '3',
      vars: { SIPUSERNAME: '3016' },
    });
    await s.core.catalog.addBuffer(Buffer.alloc(3000, 5), {
      kind: 'firmware',
      profile: 'avaya-16cc',
      models: ['16CC'],
      filename: 'S16CC_R1_1.bin',
    });
  });
  after(async () => {
    await s.stop();
  });
  /** The CLI arguments that simulate the group-3 16CC with this MAC spelling, its state kept in `state`. */
  const simulate16cc = (mac: string): string[] => [
    'simulate',
    'avaya',
    '--server',
    s.http,
    '--model',
    '16CC',
    '--mac',
    mac,
    '--group',
    '3',
    '--state',
    state,
  ];

  it('boots a 16CC: downloads its binary once, prints the settings it ended with', async () => {
    const args = simulate16cc('00:E0:BB:00:16:C0');
    const first = await aps(...args);
    assert.match(first.stdout, /^00e0bb0016c0 16CC \(16xxupgrade\.txt\): ok$/m);
    assert.match(first.stdout, /downloaded S16CC_R1_1\.bin; running S16CC_R1_1\.bin/);
    assert.match(first.stdout, /^ {2}SET SNTPSRVR ntp\.example\.net$/m);
    assert.match(first.stdout, /^ {2}SET SIPUSERNAME 3016$/m);
    const second = JSON.parse((await aps(...args, '--json')).stdout);
    assert.deepEqual(second.downloaded, []);
    assert.equal(second.running, 'S16CC_R1_1.bin');
  });

  it('--count boots consecutive MACs and prints a summary (unknown phones are registered as pending)', async () => {
    const r = await aps(
      'simulate',
      'avaya',
      '--server',
      s.http,
      '--model',
      'J179',
      '--mac',
      '00e0bb00f000',
      '--count',
      '3',
      '--state',
      state,
      '--json',
    );
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.phones, 3);
    assert.equal(summary.failed, 0);
    assert.equal(s.core.devices.get(macPlus('00e0bb00f000', 2))?.status, 'pending');
  });

  it('refuses a bad MAC or group with a clear message', async () => {
    await fails(['simulate', 'avaya', '--server', s.http, '--model', 'J179', '--mac', 'nope'], /--mac nope is not a MAC address/);
    await fails(
      ['simulate', 'avaya', '--server', s.http, '--model', 'J179', '--mac', '00e0bb00f000', '--group', '1000'],
      /--group 1000 must be 0-999/,
    );
  });

  it('aps device show --json prints the DHCP option string and craft values', async () => {
    const shown = JSON.parse((await aps('device', 'show', 'cli-16cc', '--json')).stdout) as {
      setup: { dhcpOption: string; url: string; hints: string[] };
    };
    assert.match(shown.setup.dhcpOption, /^HTTPSRVR=127\.0\.0\.1,HTTPDIR=avaya,HTTPPORT=\d+,TLSSRVR=127\.0\.0\.1,TLSPORT=\d+$/);
    assert.match(shown.setup.url, /\/avaya\/16xxupgrade\.txt$/);
    assert.ok(shown.setup.hints.some((h) => /GROUP to 3/.test(h)));
  });

  it('aps preview lists the family script, the settings, its own file and its binary', async () => {
    const files = JSON.parse((await aps('preview', 'cli-16cc', '--json')).stdout) as Array<{ name: string; text?: string }>;
    const byName = new Map(files.map((f) => [f.name, f]));
    assert.match(byName.get('16xxupgrade.txt')?.text ?? '', /^SET APPNAME S16CC_R1_1\.bin$/m);
    assert.match(byName.get('46xxsettings.txt')?.text ?? '', /^IF \$GROUP SEQ 3 GOTO GROUP_3$/m);
    assert.match(byName.get('00e0bb0016c0.txt')?.text ?? '', /^SET SIPUSERNAME 3016$/m);
    assert.ok(byName.has('S16CC_R1_1.bin'));
  });

  it('--sip-port: aps notify (check-sync) reboots the simulated phone, which fetches the new binary', async () => {
    const child = spawn(process.execPath, [APS_BIN, ...simulate16cc('00e0bb0016c0'), '--sip-port', '0', '--reboots', '1'], {
      env: { ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 600 && !/udp 127\.0\.0\.1:(\d+)/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      const port = /udp 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      assert.ok(port, `the simulator says where it listens: ${out}`);
      await s.core.catalog.addBuffer(Buffer.alloc(3000, 6), {
        kind: 'firmware',
        profile: 'avaya-16cc',
        models: ['16CC'],
        filename: 'S16CC_R1_2.bin',
        version: '1.2',
      });
      s.core.devices.upsert({ id: 'cli-16cc', vars: { sip_host: '127.0.0.1', sip_port: port } });
      const r = await avayaAdapter.notify!(s.core.devices.get('cli-16cc')!, s.core.servicesFor('avaya'), s.core.adapterConfig('avaya'));
      assert.deepEqual(r, { ok: true, summary: '200 OK' });
      assert.equal(await exited, 0);
      assert.match(out, /reboot 1 \(check-sync\):\n00e0bb0016c0 16CC \(16xxupgrade\.txt\): ok/);
      assert.match(out, /downloaded S16CC_R1_2\.bin; running S16CC_R1_2\.bin/);
    } finally {
      child.kill();
    }
  });
});
