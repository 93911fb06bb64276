import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';

// `aps simulate audiocodes` as an operator runs it: a separate process against a running server.
const exec = promisify(execFile);
const BIN = new URL('../../bin/aps.js', import.meta.url).pathname;

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
    const { stdout } = await aps('simulate', 'audiocodes', '--url', `${s.http}/audiocodes/<MAC>.ini`, '--mac', '00:90:8f:e1:00:01', '--cycles', '1', '--json');
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { check: number; trigger: string; ok: boolean; ini: string; reset: boolean });
    assert.equal(lines.length, 1);
    assert.deepEqual([lines[0]!.check, lines[0]!.trigger, lines[0]!.ok, lines[0]!.ini, lines[0]!.reset], [1, 'startup', true, 'applied', true]);
  });

  it('refuses a --cycles that is not a positive whole number instead of running forever', async () => {
    await assert.rejects(aps('simulate', 'audiocodes', '--url', `${s.http}/audiocodes/<MAC>.ini`, '--mac', '00908FE10001', '--cycles', 'abc'), /--cycles abc is not a positive whole number/);
  });
});
