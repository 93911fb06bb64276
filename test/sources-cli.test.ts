import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './helpers/server.ts';
import { startSftpServer, type TestSftpServer } from './helpers/sftp-server.ts';
import { APS_BIN as BIN } from './helpers/cli.ts';

const exec = promisify(execFile);

describe('aps sync (CLI) against an in-process SFTP server and a folder', () => {
  let dir: string;
  let sftp: TestSftpServer;
  let env: NodeJS.ProcessEnv;
  const aps = (...args: string[]) => exec(process.execPath, [BIN, ...args], { env });

  before(async () => {
    dir = tempDir('aps-sync-cli-');
    mkdirSync(join(dir, 'remote', 'fw'), { recursive: true });
    mkdirSync(join(dir, 'incoming'));
    writeFileSync(join(dir, 'remote', 'fw', 'vop-4.2.bin'), 'remote firmware');
    writeFileSync(join(dir, 'incoming', 'tones-1.cpt'), 'call progress tones');
    sftp = await startSftpServer(join(dir, 'remote'), 'mirror', 'cli-Secret-77');
    const yaml = (password: string): string =>
      [
        'sources:',
        '  - name: mirror',
        '    type: sftp',
        '    host: 127.0.0.1',
        `    port: ${sftp.port}`,
        '    username: mirror',
        `    password: ${password}`,
        `    hostKeySha256: "${sftp.fingerprint}"`,
        '    path: /fw',
        '    profile: vop',
        '    kind: firmware',
        '  - name: drop',
        '    type: folder',
        `    path: ${join(dir, 'incoming')}`,
        // Call progress tones are an AudioCodes file: a VOP profile refuses aux files (issue 9 §3).
        '    profile: audiocodes-mp124',
        '    kind: aux',
        '    role: cpt',
      ].join('\n');
    writeFileSync(join(dir, 'aps.yaml'), yaml('cli-Secret-77'));
    writeFileSync(join(dir, 'bad.yaml'), yaml('not-the-password'));
    env = { ...process.env, APS_DATA: join(dir, 'data'), APS_CONFIG: join(dir, 'aps.yaml'), APS_LOG_LEVEL: 'silent' };
  });
  after(async () => {
    await sftp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs every source and prints JSON; a second run adds nothing', async () => {
    const first = JSON.parse((await aps('sync', '--json')).stdout) as Array<{
      source: string;
      ok: boolean;
      added: number;
      files: Array<{ file: string; status: string }>;
    }>;
    assert.deepEqual(
      first.map((r) => [r.source, r.ok, r.added]),
      [
        ['mirror', true, 1],
        ['drop', true, 1],
      ],
    );
    const { stdout } = await aps('sync');
    assert.match(stdout, /^mirror: 0 added, 1 unchanged, 0 skipped, 0 failed, 0 unmapped, 0 bytes fetched \(run \d+\)$/m);
    assert.match(stdout, /^drop: 0 added, 1 unchanged/m);
    const list = JSON.parse((await aps('artifact', 'list', '--json')).stdout) as Array<{ filename: string; origin: string }>;
    assert.deepEqual(list.map((a) => [a.filename, a.origin]).sort(), [
      ['tones-1.cpt', 'folder:drop'],
      ['vop-4.2.bin', 'sftp:mirror'],
    ]);
  });

  it('syncs one named source, and names the known ones for an unknown name', async () => {
    writeFileSync(join(dir, 'remote', 'fw', 'vop-4.3.bin'), 'newer remote firmware');
    const { stdout } = await aps('sync', 'mirror');
    assert.match(stdout, /^mirror: added vop-4\.3\.bin 4\.3 to vop \(artifact \d+\)$/m);
    assert.doesNotMatch(stdout, /^drop:/m);
    await assert.rejects(aps('sync', 'nope'), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /no source "nope" \(configured: mirror, drop\)/);
      return true;
    });
  });

  it('shows progress of a transfer: plain lines without a terminal, JSON lines on stderr with --json', async () => {
    writeFileSync(join(dir, 'remote', 'fw', 'vop-8.0.bin'), randomBytes(200_000));
    const plain = await aps('sync', 'mirror', '--progress-interval', '0');
    const lines = plain.stderr.split('\n').filter((l) => l.startsWith('mirror: vop-8.0.bin '));
    assert.ok(lines.length >= 3, plain.stderr);
    assert.equal(lines[0], 'mirror: vop-8.0.bin 0% (0 B of 195.3 KiB)');
    assert.match(lines[1]!, /^mirror: vop-8\.0\.bin \d+% \(\d+\.\d KiB of 195\.3 KiB\)$/);
    assert.equal(lines.at(-1), 'mirror: vop-8.0.bin 100% (195.3 KiB of 195.3 KiB) done');
    assert.match(plain.stdout, /^mirror: added vop-8\.0\.bin 8\.0 to vop/m);

    writeFileSync(join(dir, 'remote', 'fw', 'vop-8.1.bin'), randomBytes(100_000));
    const json = await aps('sync', 'mirror', '--json', '--progress-interval', '0');
    const events = json.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; file: string; bytes: number; total: number; done: boolean });
    assert.ok(events.length >= 2);
    assert.ok(events.every((e) => e.event === 'progress' && e.file === 'vop-8.1.bin' && e.total === 100_000));
    assert.deepEqual([events.at(-1)!.bytes, events.at(-1)!.done], [100_000, true]);
    const [result] = JSON.parse(json.stdout) as Array<{ added: number }>;
    assert.equal(result?.added, 1, 'stdout stays one JSON document');
    // A transfer shorter than the interval prints nothing.
    writeFileSync(join(dir, 'remote', 'fw', 'vop-8.2.bin'), 'tiny');
    assert.equal((await aps('sync', 'mirror')).stderr, '');
  });

  it('lists the configured sources with their last run, never the password', async () => {
    const list = JSON.parse((await aps('sync', '--list', '--json')).stdout) as Array<{ name: string; lastRun: { status: string } | null }>;
    assert.deepEqual(
      list.map((s) => [s.name, s.lastRun?.status]),
      [
        ['mirror', 'ok'],
        ['drop', 'ok'],
      ],
    );
    const { stdout } = await aps('sync', '--list');
    assert.match(stdout, /^mirror\s+sftp\s+127\.0\.0\.1:\d+\/fw\s+false\s+verify\s+ok /m);
    assert.ok(!stdout.includes('cli-Secret-77') && !JSON.stringify(list).includes('cli-Secret-77'));
  });

  it('exits 2 with a clear line when a source fails, and never prints the password', async () => {
    await assert.rejects(
      exec(process.execPath, [BIN, 'sync', '--config', join(dir, 'bad.yaml')], { env }),
      (e: { code: number; stdout: string; stderr: string }) => {
        assert.equal(e.code, 2);
        assert.match(e.stdout, /^mirror: ERROR sftp source "mirror" \(127\.0\.0\.1:\d+\): authentication failed for user "mirror"/m);
        assert.ok(!(e.stdout + e.stderr).includes('not-the-password'));
        return true;
      },
    );
  });
});
