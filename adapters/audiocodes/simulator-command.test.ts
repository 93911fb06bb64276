import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { APS_BIN as BIN } from '../../test/helpers/cli.ts';

// `aps simulate audiocodes` as an operator runs it: a separate process against a running server.
const exec = promisify(execFile);

describe('aps simulate audiocodes', () => {
  let s: TestServer;
  const aps = (...args: string[]) => exec(process.execPath, [BIN, ...args], { env: { ...process.env, APS_LOG_LEVEL: 'silent' } });

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'sim-cli', profile: 'audiocodes-mp124', mac: '00908FE10001' });
  });
  after(async () => {
    await s.stop();
  });

  it('runs one start-up check and prints it as JSON', async () => {
    const { stdout } = await aps(
      'simulate',
      'audiocodes',
      '--url',
      `${s.http}/audiocodes/<MAC>.ini`,
      '--mac',
      '00:90:8f:e1:00:01',
      '--cycles',
      '1',
      '--json',
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { check: number; trigger: string; ok: boolean; ini: string; reset: boolean });
    assert.equal(lines.length, 1);
    assert.deepEqual(
      [lines[0]!.check, lines[0]!.trigger, lines[0]!.ok, lines[0]!.ini, lines[0]!.reset],
      [1, 'startup', true, 'applied', true],
    );
  });

  it('with a daily schedule and --cycles 2, says when the next check is and waits for it', async () => {
    // The MP-124 profile checks daily at 02:30 (+ up to 900 s): the second check is hours away.
    const child = spawn(
      process.execPath,
      [BIN, 'simulate', 'audiocodes', '--url', `${s.http}/audiocodes/<MAC>.ini`, '--mac', '00908FE10001', '--cycles', '2'],
      {
        env: { ...process.env, APS_LOG_LEVEL: 'silent' },
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!out.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const m =
        /^check 1 \(startup\): ok: .*; next check at (\S+) \(daily at 02:30 UTC \+ (\d+) s random delay \(AutoUpdatePredefinedRandomTime 900\)\)$/m.exec(
          out,
        );
      assert.ok(m, `first line: ${out}`);
      const next = new Date(m[1]!);
      assert.equal(
        next.getTime() - Number(m[2]) * 1000 - Date.UTC(next.getUTCFullYear(), next.getUTCMonth(), next.getUTCDate(), 2, 30),
        0,
        'at 02:30 UTC plus the delay',
      );
      assert.ok(next.getTime() > Date.now() && next.getTime() <= Date.now() + 86_400_000 + 900_000);
      // Still running, waiting for that time (it used to exit 0 after one check).
      assert.equal(await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 1000))]), 'running');
    } finally {
      child.kill();
      await exited;
    }
  });

  it('--every overrides the schedule: --cycles 2 runs a periodic check', async () => {
    const { stdout } = await aps(
      'simulate',
      'audiocodes',
      '--url',
      `${s.http}/audiocodes/<MAC>.ini`,
      '--mac',
      '00908FE10001',
      '--cycles',
      '2',
      '--every',
      '200ms',
      '--json',
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { check: number; trigger: string; nextCheck: string | null });
    assert.deepEqual(
      lines.map((l) => [l.check, l.trigger, l.nextCheck === null]),
      [
        [1, 'startup', false],
        [2, 'periodic', true],
      ],
    );
  });

  it('a NOTIFY-triggered check that applies a new schedule re-arms the timer on it', async () => {
    s.core.devices.upsert({ id: 'sim-notify', profile: 'audiocodes-mp124', mac: '00908FE10002' });
    const child = spawn(
      process.execPath,
      [
        BIN,
        'simulate',
        'audiocodes',
        '--url',
        `${s.http}/audiocodes/<MAC>.ini`,
        '--mac',
        '00908FE10002',
        '--sip-port',
        '0',
        '--cycles',
        '3',
      ],
      { env: { ...process.env, APS_LOG_LEVEL: 'silent' } },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const waitFor = async (re: RegExp): Promise<RegExpExecArray> => {
      const deadline = Date.now() + 20_000;
      for (let m = re.exec(out); Date.now() < deadline; m = re.exec(out)) {
        if (m) return m;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail(`no ${re} in: ${out}`);
    };
    try {
      const port = (await waitFor(/listening for SIP NOTIFY on 127\.0\.0\.1:(\d+)\/udp/))[1]!;
      await waitFor(/^check 1 \(startup\): ok: .*\(daily at 02:30 UTC/m);
      // The ini now checks every minute instead of daily; the NOTIFY makes the gateway fetch it.
      s.core.devices.upsert({ id: 'sim-notify', vars: { update_frequency_minutes: '1', sip_host: '127.0.0.1', sip_port: port } });
      const res = await fetch(`${s.http}/api/v1/devices/sim-notify/notify`, { method: 'POST', headers: { Authorization: s.auth } });
      assert.deepEqual(await res.json(), { ok: true, summary: '200 OK' });
      const m = await waitFor(/^check 2 \(sip-notify\): ok: ini applied.*; next check at (\S+) \((.*)\)$/m);
      assert.equal(m[2], 'AutoUpdateFrequency = 1 min', 'the next check follows the schedule the NOTIFY check applied');
      const next = new Date(m[1]!).getTime();
      assert.ok(next > Date.now() && next <= Date.now() + 60_000, `next check within a minute, not at the old daily time: ${m[1]}`);
    } finally {
      child.kill();
      await exited;
    }
  });

  it('refuses a --cycles that is not a positive whole number instead of running forever', async () => {
    await assert.rejects(
      aps('simulate', 'audiocodes', '--url', `${s.http}/audiocodes/<MAC>.ini`, '--mac', '00908FE10001', '--cycles', 'abc'),
      /--cycles abc is not a positive whole number/,
    );
  });
});
