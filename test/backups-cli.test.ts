import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { ADAPTERS } from '../adapters/index.ts';
import { loadConfig } from '../src/config.ts';
import { openCore } from '../src/core.ts';
import { createLogger } from '../src/log.ts';
import { apsCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

const FIRST = 'user=op1\r\nsip_password=first\r\nlanguage=en\r\n';
const SECOND = 'user=op1\r\nsip_password=second\r\nlanguage=en\r\n';
const [N1, N2] = [Buffer.byteLength(FIRST), Buffer.byteLength(SECOND)];

describe('aps backup list | show | diff | restore', () => {
  let data: string;
  let env: NodeJS.ProcessEnv;
  const { aps, fails } = apsCli(() => env);

  before(async () => {
    data = tempDir('aps-backups-cli-');
    env = { ...process.env, APS_DATA: data, APS_LOG_LEVEL: 'silent' };
    await aps('device', 'add', 'op1', '--profile', 'vop', '--password', 'pw1');
    await aps('device', 'add', 'op2', '--profile', 'vop', '--password', 'pw2');
    // Devices upload through their adapter; here the core the adapter would call, on the same data folder.
    const core = openCore(
      loadConfig({ env: {}, file: undefined, overrides: { dataDir: data, logLevel: 'silent' } }),
      ADAPTERS,
      createLogger('silent'),
    );
    try {
      await core.backups.put(Readable.from([FIRST]), { deviceId: 'op1', name: 'op1-0.txt', slot: 0, remote: '10.0.0.9' });
      await core.backups.put(Readable.from([SECOND]), { deviceId: 'op1', name: 'op1-1.txt', slot: 1, remote: '10.0.0.9' });
    } finally {
      core.close();
    }
  });

  it('lists a device’s backups, newest first, as a table and as JSON', async () => {
    const { stdout } = await aps('backup', 'list', 'op1');
    const lines = stdout.trim().split('\n');
    assert.match(lines[0]!, /^SEQ\s+AT\s+SIZE\s+SLOT\s+NAME\s+REMOTE\s+SHA256$/);
    assert.match(lines[1]!, new RegExp(`^2\\s+\\S+\\s+${N2}\\s+1\\s+op1-1\\.txt\\s+10\\.0\\.0\\.9\\s+[0-9a-f]{16}$`));
    assert.match(lines[2]!, /^1\s+/);
    const json = JSON.parse((await aps('backup', 'list', 'op1', '--json')).stdout) as Array<{ seq: number; sha256: string; size: number }>;
    assert.deepEqual(
      json.map((b) => [b.seq, b.size]),
      [
        [2, N2],
        [1, N1],
      ],
    );
    assert.match(json[0]!.sha256, /^[0-9a-f]{64}$/);
    assert.equal((await aps('backup', 'list', 'op2')).stdout.trim(), '(none)');
  });

  it('prints the bytes of the latest backup, or of one by number', async () => {
    assert.equal((await aps('backup', 'show', 'op1')).stdout, SECOND);
    assert.equal((await aps('backup', 'show', 'op1', '1')).stdout, FIRST);
  });

  it('diffs the previous backup against the latest by default, exit 0', async () => {
    const { stdout } = await aps('backup', 'diff', 'op1');
    assert.match(stdout, /^--- op1 backup 1\t/m);
    assert.match(stdout, /^\+\+\+ op1 backup 2\t/m);
    assert.match(stdout, /^-sip_password=first$/m);
    assert.match(stdout, /^\+sip_password=second$/m);
    assert.ok(!/^[-+]language/m.test(stdout), 'unchanged lines are context only');
    const same = await aps('backup', 'diff', 'op1', '2', '2');
    assert.equal(same.stdout, '');
    assert.match(same.stderr, /no differences/);
  });

  it('restores a backup as the device config that preview then shows', async () => {
    const { stdout } = await aps('backup', 'restore', 'op1', '1');
    assert.match(stdout, new RegExp(`^backup 1 of op1 is now its config \\(artifact \\d+, ${N1} bytes, sha256 [0-9a-f]{64}\\)$`, 'm'));
    const preview = JSON.parse((await aps('preview', 'op1', '--json')).stdout) as Array<{ name: string; text?: string }>;
    assert.ok(
      preview.some((f) => f.text === FIRST),
      JSON.stringify(preview.map((f) => f.name)),
    );
    const events = (await aps('events', '--device', 'op1', '--json')).stdout;
    assert.match(events, /"file": "backup:1"/);
  });

  it('says clearly what is wrong with a device or backup number', async () => {
    await fails(['backup', 'list', 'ghost'], /^aps: no device ghost$/m);
    await fails(['backup', 'show', 'op1', '7'], /^aps: device op1 has no backup 7$/m);
    await fails(['backup', 'show', 'op2'], /^aps: device op2 has no backups$/m);
    await fails(['backup', 'show', 'op1', 'two'], /backup number must be a positive integer, not "two"/);
    await fails(['backup', 'diff', 'op1', '0'], /A must be a positive integer, not "0"/);
    await fails(['backup', 'diff', 'op2'], /device op2 has no backups/);
    await fails(['backup', 'restore', 'op1', '9'], /device op1 has no backup 9/);
    await fails(['backup', 'restore', 'ghost', '1'], /no device ghost/);
  });

  it('removes a device’s backups with the device', async () => {
    const { stdout } = await aps('device', 'rm', 'op1');
    assert.match(stdout, /and 2 backups/);
    await aps('device', 'add', 'op1', '--profile', 'vop');
    assert.equal((await aps('backup', 'list', 'op1')).stdout.trim(), '(none)');
  });
});
