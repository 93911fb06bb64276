import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apsCli } from '../../test/helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { nthMac } from './simulator-command.ts';

// `aps simulate innovaphone` as an operator runs it: a separate process against a running server.
describe('aps simulate innovaphone (CLI)', () => {
  let s: TestServer;
  const { aps, fails } = apsCli({ ...process.env, APS_LOG_LEVEL: 'silent' });

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'base1', profile: 'innovaphone-ip6010', mac: '00-90-33-60-10-01' });
    await s.core.catalog.addBuffer(Buffer.alloc(20_000, 9), {
      kind: 'firmware',
      profile: 'innovaphone-ip6010',
      version: '13r3-6010',
      filename: 'ip6010.bin',
    });
  });
  after(async () => {
    await s.stop();
  });

  it('runs one poll and prints what it did as JSON; the next poll stops at check', async () => {
    const state = tempDir();
    const args = [
      'simulate',
      'innovaphone',
      '--url',
      `${s.http}/innovaphone/up/#m/#h/#t/#i/`,
      '--product',
      'IP6010',
      '--mac',
      '00-90-33-60-10-01',
    ];
    const more = ['--state', state, '--hour', '3', '--uptime-minutes', '30', '--json'];
    const first = JSON.parse((await aps(...args, ...more)).stdout) as {
      ok: boolean;
      loaded: Record<string, string>;
      backup: { status: number };
    };
    assert.equal(first.ok, true);
    assert.equal(first.loaded.firmware, '13r3-6010');
    assert.equal(first.backup.status, 201);
    const second = JSON.parse((await aps(...args, ...more)).stdout) as { stoppedBy: string };
    assert.equal(second.stoppedBy, 'check');
    assert.equal(s.core.backups.list('base1').length, 1);
  });

  it('--count N runs N devices (unknown MACs register as pending) and prints a summary', async () => {
    const out = await aps(
      'simulate',
      'innovaphone',
      '--url',
      `${s.http}/innovaphone/up/#m/`,
      '--product',
      'IP6010',
      '--mac',
      '00-90-33-70-00-fe',
      '--count',
      '3',
      '--state',
      tempDir(),
      '--uptime-minutes',
      '30',
      '--json',
    );
    const summary = JSON.parse(out.stdout) as { devices: number; failed: number; loaded: Record<string, number> };
    assert.deepEqual([summary.devices, summary.failed, summary.loaded.firmware], [3, 0, 3]);
    for (const mac of ['0090337000fe', '0090337000ff', '009033700100']) assert.equal(s.core.devices.getByMac(mac)?.status, 'pending', mac);
  });

  it('refuses a bad --hour or --mac with a clear message', async () => {
    const base = ['simulate', 'innovaphone', '--url', `${s.http}/innovaphone/up/#m/`, '--product', 'IP6010', '--state', tempDir()];
    await fails([...base, '--mac', '00-90-33-60-10-01', '--hour', '24'], /--hour must be a whole number 0\.\.23/);
    await fails([...base, '--mac', 'nonsense'], /--mac nonsense is not a MAC address/);
  });

  it('counts MACs up across byte boundaries', () => {
    assert.equal(nthMac('0090337000ff', 1), '009033700100');
    assert.equal(nthMac('ffffffffffff', 1), '000000000000');
  });
});
