import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { backupData, restoreData, verifyData, type Manifest, type VerifyReport } from '../src/data-backup.ts';
import { apsCli } from './helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

const FIRMWARE = Buffer.from('firmware bytes '.repeat(4000));
const DEVICE_CONFIG = 'config add SIP0 /user alice /pwd s3cret-sip\r\n';
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

// Backups of APS itself, taken by the CLI (its own process) while a server writes to the same folder.
describe('aps data backup / verify / restore', () => {
  let s: TestServer;
  const dir = tempDir('aps-data-backup-');
  const backup = join(dir, 'backup');
  const { aps, fails } = apsCli(() => ({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'warn' }));

  before(async () => {
    s = await startTestServer();
    const form = new FormData();
    for (const [k, v] of Object.entries({ kind: 'firmware', profile: 'vop', version: '2.0', serial: '2' })) form.set(k, v);
    form.set('file', new Blob([FIRMWARE]), 'fw2.bin');
    const up = await fetch(`${s.http}/api/v1/artifacts`, { method: 'POST', headers: { authorization: s.auth }, body: form });
    assert.equal(up.status, 201);
    s.core.devices.upsert({ id: 'alice', profile: 'vop', password: 'pw-alice' }, 'create');
    await s.core.backups.put(Readable.from([Buffer.from(DEVICE_CONFIG)]), { deviceId: 'alice', name: 'alice.txt' });
  });
  after(async () => s.stop());

  it('backs up while the server writes: the store copy, the blobs it names, the device backups, the keys, a manifest', async () => {
    // The server keeps recording while the backup runs.
    const writing = setInterval(() => s.core.events.record({ deviceId: 'alice', adapter: 'vop', file: 'x', status: 200 }), 2);
    try {
      const out = JSON.parse((await aps('data', 'backup', backup, '--json')).stdout) as Manifest;
      const paths = out.files.map((f) => f.path).sort();
      assert.ok(paths.includes('aps.sqlite') && paths.includes('secret.key'));
      assert.ok(paths.includes(`blobs/${sha(FIRMWARE).slice(0, 2)}/${sha(FIRMWARE)}`), 'the uploaded firmware');
      assert.ok(
        paths.some((p) => p.startsWith('backups/alice/')),
        "alice's device backup",
      );
      assert.equal(out.artifacts, 1);
      assert.equal(out.deviceBackups, 1);
      for (const f of out.files) assert.equal(sha(readFileSync(join(backup, f.path))), f.sha256, f.path);
      for (const f of [...out.files.map((f) => f.path), 'manifest.json']) assert.equal(statSync(join(backup, f)).mode & 0o777, 0o600, f);
    } finally {
      clearInterval(writing);
    }
    await fails(['data', 'backup', backup], /not empty/);
  });

  it('verifies a backup and the live data folder beside the running server', async () => {
    const r = JSON.parse((await aps('data', 'verify', backup, '--json')).stdout) as VerifyReport;
    assert.equal(r.ok, true);
    assert.deepEqual(r.integrity, []);
    assert.equal(r.blobs.checked, 1);
    assert.ok((r.manifest?.checked ?? 0) >= 4);
    const live = await aps('data', 'verify');
    assert.match(live.stdout, /store integrity: ok\nblobs: 1 checked, 0 not matching their sha256, 0 missing, 0 orphaned[\s\S]*verify: OK/);
  });

  it('names a corrupt blob, a missing one and an orphan, and exits 1', async () => {
    const bad = join(dir, 'bad');
    cpSync(backup, bad, { recursive: true });
    const blob = join(bad, 'blobs', sha(FIRMWARE).slice(0, 2), sha(FIRMWARE));
    appendFileSync(blob, 'x');
    const orphan = sha('nobody names me');
    mkdirSync(join(bad, 'blobs', orphan.slice(0, 2)), { recursive: true });
    writeFileSync(join(bad, 'blobs', orphan.slice(0, 2), orphan), 'nobody names me');
    const e = await aps('data', 'verify', bad, '--json').then(
      () => assert.fail('verify passed a corrupt backup'),
      (err: { code: number; stdout: string }) => err,
    );
    assert.equal(e.code, 1);
    const r = JSON.parse(e.stdout) as VerifyReport;
    assert.equal(r.ok, false);
    assert.deepEqual(r.blobs.mismatched, [sha(FIRMWARE)]);
    assert.deepEqual(r.blobs.orphans, [orphan]);
    assert.ok(r.manifest!.mismatched.some((p) => p.endsWith(sha(FIRMWARE))));
    rmSync(blob);
    const r2 = JSON.parse(
      await aps('data', 'verify', bad, '--json').then(
        () => '',
        (err: { stdout: string }) => err.stdout,
      ),
    ) as VerifyReport;
    assert.deepEqual(r2.blobs.missing, [sha(FIRMWARE)]);
    await fails(['data', 'restore', bad, '--data-dir', join(dir, 'never')], /does not verify/);
  });

  it('restores into a new data folder that a server then serves: artifacts, devices, sealed device backups', async () => {
    const target = join(dir, 'restored');
    const restored = JSON.parse((await aps('data', 'restore', backup, '--data-dir', target, '--json')).stdout) as {
      files: number;
      dataDir: string;
    };
    assert.equal(restored.dataDir, target);
    assert.ok(restored.files >= 4);
    await fails(['data', 'restore', backup, '--data-dir', target], /already holds a store/);
    const s2 = await startTestServer({}, target);
    try {
      const [a] = s2.core.catalog.list('vop');
      assert.equal(a?.sha256, sha(FIRMWARE));
      assert.deepEqual(s2.core.catalog.readSmall(a!), FIRMWARE);
      assert.ok(s2.core.devices.get('alice'));
      // Opening it takes the restored secret.key: sealed with the original's.
      assert.equal(s2.core.backups.read('alice', 1).toString(), DEVICE_CONFIG);
      const r = JSON.parse((await apsCli({ ...process.env, APS_DATA: target }).aps('data', 'verify', '--json')).stdout) as VerifyReport;
      assert.equal(r.ok, true);
    } finally {
      await s2.stop();
    }
  });

  it('refuses a backup whose manifest names a file outside its folder (.., absolute): nothing is read or written there', async () => {
    // Review 13, finding 9: restore copied join(backup, path) to join(dataDir, path) for any manifest path.
    const root = tempDir('aps-data-crafted-');
    const payload = 'ssh-ed25519 AAAA attacker\n';
    mkdirSync(join(root, 'escape'), { recursive: true });
    writeFileSync(join(root, 'escape', 'authorized_keys'), payload);
    for (const [name, path] of [
      ['dotdot', '../escape/authorized_keys'],
      ['nested', 'blobs/../../escape/authorized_keys'],
      ['absolute', join(root, 'escape', 'authorized_keys')],
    ] as const) {
      const crafted = join(root, name);
      cpSync(backup, crafted, { recursive: true });
      const m = JSON.parse(readFileSync(join(crafted, 'manifest.json'), 'utf8')) as Manifest;
      m.files.push({ path, size: Buffer.byteLength(payload), sha256: sha(payload) });
      writeFileSync(join(crafted, 'manifest.json'), JSON.stringify(m));
      const target = join(root, `target-${name}`, 'data');
      await assert.rejects(restoreData(crafted, target), /outside the backup folder/, name);
      await assert.rejects(verifyData(crafted), /outside the backup folder/, name);
      assert.equal(existsSync(join(root, `target-${name}`, 'escape')), false, `${name}: written outside the data folder`);
      assert.equal(existsSync(join(target, 'aps.sqlite')), false, `${name}: nothing restored`);
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('--without-keys leaves out secret.key, admin.token and tls/; restore then needs the key kept apart (--key)', async () => {
    const root = tempDir('aps-data-nokeys-');
    const bare = join(root, 'backup');
    const m = await backupData(s.dataDir, bare, { withoutKeys: true });
    assert.equal(m.withoutKeys, true);
    const paths = m.files.map((f) => f.path);
    assert.ok(paths.includes('aps.sqlite'));
    for (const p of paths) assert.doesNotMatch(p, /^(secret\.key|admin\.token|tls\/)/);
    assert.equal(existsSync(join(bare, 'secret.key')), false);
    const target = join(root, 'data');
    await assert.rejects(restoreData(bare, target), /--key/);
    assert.equal(existsSync(join(target, 'aps.sqlite')), false, 'nothing restored without the key');
    await assert.rejects(restoreData(backup, join(root, 'other'), { keyFile: join(s.dataDir, 'secret.key') }), /holds its own/);
    await restoreData(bare, target, { keyFile: join(s.dataDir, 'secret.key') });
    assert.equal(statSync(join(target, 'secret.key')).mode & 0o777, 0o600);
    const s2 = await startTestServer({}, target);
    try {
      assert.equal(s2.core.backups.read('alice', 1).toString(), DEVICE_CONFIG, 'sealed with the key given back');
    } finally {
      await s2.stop();
    }
  });
});
