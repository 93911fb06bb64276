import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APS_BIN, apsCli } from '../../test/helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { parseInfo, runVopCycle } from './simulator.ts';

// `aps simulate vop` as an operator runs it: a separate process against a running server.
describe('aps simulate vop (CLI)', () => {
  let s: TestServer;
  const env = { ...process.env, APS_LOG_LEVEL: 'silent' };
  const { aps, fails } = apsCli(env);

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'sim', profile: 'vop', password: 'pw-sim' });
    s.core.devices.upsert({ id: 'fl1', profile: 'vop', password: 'pw-fl' });
    s.core.devices.upsert({ id: 'odd', profile: 'vop', password: 'a+b&c=d e' });
    await s.core.catalog.addBuffer(Buffer.from('FW 1'), {
      kind: 'firmware',
      profile: 'vop',
      version: '1.0',
      serial: 10,
      filename: 'fw10.bin',
    });
  });
  after(async () => {
    await s.stop();
  });

  it('refuses an --every longer than a timer can wait, at once and without a TimeoutOverflowWarning', async () => {
    // Before, it re-checked every 1 ms forever: that it exits at all, with this message, is the point.
    const stderr = await fails(
      [
        'simulate',
        'vop',
        '--server',
        s.http,
        '--user',
        'sim',
        '--password',
        'pw-sim',
        '--state',
        tempDir(),
        '--every',
        '700h',
        '--cycles',
        '3',
      ],
      /--every 700h is too long: at most 596h/,
    );
    assert.ok(!/TimeoutOverflowWarning/.test(stderr), stderr);
    await fails(
      ['simulate', 'vop', '--server', s.http, '--user', 'sim', '--password', 'pw-sim', '--every', '0s'],
      /--every 0s is too short/,
    );
    await fails(
      ['simulate', 'vop', '--server', s.http, '--user', 'sim', '--password', 'pw-sim', '--once', '--cycles', '2'],
      /--once and --cycles cannot be used together/,
    );
  });

  it('the AudioCodes and TR-069 simulators share the same --every parsing', async () => {
    await fails(
      ['simulate', 'audiocodes', '--url', `${s.http}/audiocodes/<MAC>.ini`, '--mac', '00908FE10001', '--every', '700h', '--cycles', '2'],
      /"700h" is too long/,
    );
    // tr069 parses --every after its first session (here: against nothing), then stops with the same error.
    await fails(
      [
        'simulate',
        'tr069',
        '--acs',
        'http://127.0.0.1:1/tr069',
        '--serial',
        'X1',
        '--state',
        join(tempDir(), 'cpe.json'),
        '--every',
        '700h',
      ],
      /"700h" is too long/,
    );
  });

  it('help states the default: a check at start and every 6h; --once for a single check', async () => {
    const { stdout } = await aps('simulate', 'vop', '--help');
    assert.match(stdout, /--every <duration>\s+check at start and then every duration[^]*default: "6h"/);
    assert.match(stdout, /--once\s+check once and exit/);
  });

  it('without --once or --cycles it keeps running after the first check (every 6h, as the VOP does)', async () => {
    const state = tempDir();
    const child = spawn(
      process.execPath,
      [APS_BIN, 'simulate', 'vop', '--server', s.http, '--user', 'sim', '--password', 'pw-sim', '--state', state],
      { env },
    );
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: string) => {
          out += c;
          if (/check 1: ok/.test(out)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`exited (${code}) after: ${out}`)));
      });
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(child.exitCode, null, 'still waiting for the next check');
    } finally {
      child.kill();
    }
  });

  it('--once checks once; --every with --cycles checks that many times', async () => {
    const state = tempDir();
    const once = await aps('simulate', 'vop', '--server', s.http, '--user', 'sim', '--password', 'pw-sim', '--state', state, '--once');
    assert.match(once.stdout, /^check 1: ok, installed firmware, config \(\d+ bytes\)\n$/);
    const three = await aps(
      'simulate',
      'vop',
      '--server',
      s.http,
      '--user',
      'sim',
      '--password',
      'pw-sim',
      '--state',
      state,
      '--every',
      '50ms',
      '--cycles',
      '3',
    );
    assert.deepEqual(three.stdout.trim().split('\n'), [
      'check 1: ok, installed nothing (0 bytes)',
      'check 2: ok, installed nothing (0 bytes)',
      'check 3: ok, installed nothing (0 bytes)',
    ]);
  });

  it("an untrusted HTTPS certificate: the failure names --ca (APS's cert.pem) and --insecure, and --ca works", async () => {
    const base = ['simulate', 'vop', '--server', s.https, '--user', 'sim', '--password', 'pw-sim', '--once'];
    const failed = await aps(...base, '--state', tempDir()).then(
      () => assert.fail('an untrusted certificate must fail the check'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^check 1: FAILED: self-signed certificate: the HTTPS certificate of 127\.0\.0\.1:\d+ is not trusted; /);
    assert.match(failed.stdout, /pass --ca FILE .*\/tls\/cert\.pem.*, or --insecure in a lab/);
    // The hint is right: APS's own certificate as --ca makes the same check pass.
    const ok = await aps(...base, '--state', tempDir(), '--ca', join(s.dataDir, 'tls', 'cert.pem'));
    assert.match(ok.stdout, /^check 1: ok, installed firmware/);
  });

  it('--count N always runs users U1..UN, also for N = 1', async () => {
    const state = tempDir();
    const { stdout } = await aps(
      'simulate',
      'vop',
      '--server',
      s.http,
      '--user',
      'fl',
      '--password',
      'pw-fl',
      '--state',
      state,
      '--count',
      '1',
      '--once',
      '--json',
    );
    const summary = JSON.parse(stdout) as { vops: number; failed: number };
    assert.deepEqual([summary.vops, summary.failed], [1, 0]);
    assert.ok(existsSync(join(state, 'fl1', 'info.xml')), 'user fl1, not fl');
    assert.ok(!existsSync(join(state, 'fl')));
    await fails(
      ['simulate', 'vop', '--server', s.http, '--user', 'fl', '--password', 'pw-fl', '--count', '0', '--once'],
      /--count 0 is not a positive whole number/,
    );
  });

  it('warns that URL-reserved characters in the password would break a VOP that substitutes $p as is', async () => {
    const { stdout, stderr } = await aps(
      'simulate',
      'vop',
      '--server',
      s.http,
      '--user',
      'odd',
      '--password',
      'a+b&c=d e',
      '--state',
      tempDir(),
      '--once',
    );
    assert.match(stdout, /check 1: ok/);
    assert.match(stderr, /warning: --password contains a character reserved in URLs/);
    assert.ok(!/--user contains/.test(stderr));
  });

  it('a corrupt local info file is treated as absent (warning, full check), not a failure on every check', async () => {
    const state = tempDir();
    const dir = join(state, 'sim');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'info.xml'), '<?xml version="1.0"?><info><firmware><serial>9');
    const r = await runVopCycle({ server: s.http, user: 'sim', password: 'pw-sim', stateDir: dir });
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(r.installed, ['firmware', 'config']);
    assert.equal(r.warnings?.length, 1);
    assert.match(r.warnings![0]!, /info\.xml is not a valid information file \(Unclosed root tag\); treated as absent: full check/);
    assert.equal((await parseInfo(readFileSync(join(dir, 'info.xml'), 'utf8'))).firmware?.serial, 10, 'a good info file replaced it');
    assert.equal((await runVopCycle({ server: s.http, user: 'sim', password: 'pw-sim', stateDir: dir })).warnings, undefined);

    // The CLI prints the warning on stderr and succeeds; an empty file counts as corrupt too.
    writeFileSync(join(dir, 'info.xml'), '');
    const { stdout, stderr } = await aps(
      'simulate',
      'vop',
      '--server',
      s.http,
      '--user',
      'sim',
      '--password',
      'pw-sim',
      '--state',
      state,
      '--once',
    );
    assert.match(stdout, /check 1: ok, installed firmware, config/);
    assert.match(stderr, /warning: .*info\.xml is not a valid information file/);
  });
});
