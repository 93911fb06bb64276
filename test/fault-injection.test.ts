// Fault injection: kill -9 the server (and an `aps artifact import` beside it) while an admin upload, an
// import, a scheduled SFTP source sync and a device backup PUT are all writing; start it again and check
// what a crash may leave: the store passes its integrity check, every artifact's blob matches its sha256
// (no partial artifact is listed), every listed device backup is one of the bodies sent whole, and no
// temp file of a killed writer is left. CI runs 4 rounds; APS_FAULT_ROUNDS=50 for a bigger run.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyData } from '../src/data-backup.ts';
import { TEMP_DIRS } from '../src/data-folder.ts';
import { ATOMIC_TEMP, tempWriter } from '../src/fs-atomic.ts';
import { APS_BIN } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';
import { startSftpServer, type TestSftpServer } from './helpers/sftp-server.ts';
import { spawnServe, type SpawnedServer } from './helpers/spawn-server.ts';

const ROUNDS = Number(process.env.APS_FAULT_ROUNDS ?? 4);
const MiB = 1024 * 1024;
const TOKEN = 'fault-admin-token-0123456789';
const PHONE = { id: 'fi-desk', mac: '00e0bb00fa01', pw: 'fi-pw' };
const KINDS = ['upload', 'import', 'sync', 'backup'] as const;
type Kind = (typeof KINDS)[number];
/** Which temp folder shows a kind mid-write. */
const TEMP_OF: Record<Kind, string> = {
  upload: 'uploads',
  import: join('blobs', 'tmp'),
  sync: join('sources', 'tmp'),
  backup: join('backups', 'tmp'),
};

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Temp files anywhere in the data folder whose writer is not `livePid`: what a killed writer left. */
function leftovers(data: string, livePid: number): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (tempWriter(e.name) !== livePid && (ATOMIC_TEMP.test(e.name) || TEMP_DIRS.some((d) => relative(data, dir) === d))) {
        found.push(relative(data, path));
      }
    }
  };
  walk(data);
  return found;
}

/** Temp files of one kind now, by the given writer (the server, or the import beside it). */
function tempsIn(data: string, kind: Kind, pid?: number): number {
  try {
    return readdirSync(join(data, TEMP_OF[kind])).filter((f) => pid === undefined || tempWriter(f) === pid).length;
  } catch {
    return 0;
  }
}

/** Sends `body` in 64 KiB chunks, one every `everyMs`: a slow client the kill catches mid-body. Never rejects. */
function slowSend(req: import('node:http').ClientRequest, body: Buffer, everyMs: number): void {
  req.on('error', () => {});
  req.on('response', (res) => res.resume());
  let off = 0;
  const next = (): void => {
    if (req.destroyed) return;
    if (off >= body.length) return void req.end();
    req.write(body.subarray(off, off + 64 * 1024));
    off += 64 * 1024;
    setTimeout(next, everyMs);
  };
  next();
}

function multipart(fields: Record<string, string>, file: Buffer, filename: string): { body: Buffer; type: string } {
  const b = `fault${randomBytes(8).toString('hex')}`;
  const parts = Object.entries(fields).map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  const head = `${parts.join('')}--${b}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return { body: Buffer.concat([Buffer.from(head), file, Buffer.from(`\r\n--${b}--\r\n`)]), type: `multipart/form-data; boundary=${b}` };
}

describe(`fault injection: kill -9 during uploads, imports, syncs and device backups (${ROUNDS} rounds)`, () => {
  const dir = tempDir('aps-faults-');
  const data = join(dir, 'data');
  const remote = join(dir, 'remote', 'fw');
  let sftp: TestSftpServer;
  let env: NodeJS.ProcessEnv;
  const sentBackups = new Set<string>();

  before(async () => {
    mkdirSync(remote, { recursive: true });
    sftp = await startSftpServer(join(dir, 'remote'), 'mirror', 'mirror-Secret-1');
    writeFileSync(
      join(dir, 'aps.yaml'),
      [
        'sources:',
        '  - name: mirror',
        '    type: sftp',
        '    host: 127.0.0.1',
        `    port: ${sftp.port}`,
        '    username: mirror',
        '    password: mirror-Secret-1',
        `    hostKeySha256: "${sftp.fingerprint}"`,
        '    path: /fw',
        '    profile: vop',
        '    kind: firmware',
        '    schedule: "* * * * * *"',
      ].join('\n'),
    );
    env = { APS_DATA: data, APS_CONFIG: join(dir, 'aps.yaml'), APS_ADMIN_TOKEN: TOKEN };
    writeFileSync(
      join(dir, 'fleet.yaml'),
      `devices:\n  - { id: ${PHONE.id}, profile: avaya-96x1, model: '9611', mac: ${PHONE.mac}, password: ${PHONE.pw} }\n`,
    );
    const apply = spawn(process.execPath, [APS_BIN, 'apply', join(dir, 'fleet.yaml')], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    assert.equal(await new Promise((r) => apply.once('exit', r)), 0);
  });
  after(async () => sftp.close());

  it('starts again every time with a sound store, whole artifacts and backups, and no temp file left', async (t) => {
    let server: SpawnedServer = await spawnServe(['--host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--no-ftp'], env);
    const faults: Record<Kind, number> = { upload: 0, import: 0, sync: 0, backup: 0 };
    let tempsAtKill = 0;
    let orphans = 0;
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        // New upstream files each round, so every scheduled sync has something to fetch.
        for (const f of readdirSync(remote)) rmSync(join(remote, f));
        for (let i = 1; i <= 3; i++) writeFileSync(join(remote, `sync-${round}.${i}.bin`), randomBytes(2 * MiB));
        // The scheduled sync fetches the first file whole and stalls inside the second: killed mid-download.
        sftp.stallOnRead = `/fw/sync-${round}.2.bin`;
        const importDir = join(dir, `import-${round}`);
        mkdirSync(importDir);
        for (let i = 1; i <= 3; i++) writeFileSync(join(importDir, `imp-${round}.${i}.bin`), randomBytes(6 * MiB));

        const upload = multipart({ kind: 'firmware', profile: 'vop', version: `up-${round}` }, randomBytes(8 * MiB), `up-${round}.bin`);
        slowSend(
          httpRequest({
            host: '127.0.0.1',
            port: server.listening.http,
            method: 'POST',
            path: '/api/v1/artifacts',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': upload.type, 'content-length': upload.body.length },
          }),
          upload.body,
          60,
        );
        // One whole backup each round, so the listing checked after each kill is never empty.
        const whole = Buffer.from(`[Contacts whole ${round}]\nName=Dave\n`);
        sentBackups.add(sha(whole));
        const put = await new Promise<number>((resolve, reject) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port: server.listening.https!,
              method: 'PUT',
              path: `/avaya/backup/${PHONE.mac}/whole-${round}.txt`,
              rejectUnauthorized: false,
              headers: { authorization: `Basic ${Buffer.from(`${PHONE.id}:${PHONE.pw}`).toString('base64')}` },
            },
            (res) => (res.resume(), resolve(res.statusCode ?? 0)),
          );
          req.on('error', reject);
          req.end(whole);
        });
        assert.equal(put, 201);
        const backup = Buffer.from(`[Contacts round ${round}]\n${'Name=Carol Number=3001\n'.repeat(30_000)}`).subarray(0, 700 * 1024);
        sentBackups.add(sha(backup));
        slowSend(
          httpsRequest({
            host: '127.0.0.1',
            port: server.listening.https!,
            method: 'PUT',
            path: `/avaya/backup/${PHONE.mac}/9611data-${round}.txt`,
            rejectUnauthorized: false,
            headers: {
              authorization: `Basic ${Buffer.from(`${PHONE.id}:${PHONE.pw}`).toString('base64')}`,
              'content-length': backup.length,
            },
          }),
          backup,
          600,
        );
        // The scheduled sync must have added its first file and be stalled inside the second before the kill
        // (on a loaded machine the schedule's first tick can come late).
        const syncUntil = Date.now() + 30_000;
        const synced = async (): Promise<boolean> => {
          const res = await fetch(`http://127.0.0.1:${server.listening.http}/api/v1/artifacts`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          const list = (await res.json()) as Array<{ filename: string }>;
          return list.some((a) => a.filename === `sync-${round}.1.bin`);
        };
        while (Date.now() < syncUntil && !(await synced())) await sleep(50);
        const importer: ChildProcess = spawn(
          process.execPath,
          [APS_BIN, 'artifact', 'import', importDir, '--profile', 'vop', '--kind', 'firmware'],
          { env: { ...process.env, ...env, APS_LOG_LEVEL: 'silent' }, stdio: 'ignore' },
        );
        const importerExited = new Promise((r) => importer.once('exit', r));

        // The slow upload, backup and stalled sync are mid-write for seconds; the import's blob temps live for
        // milliseconds each: kill when one appears, with a jitter so renames and rows are hit too. The jitter
        // starts once a round has caught an import temp: with it, 16 rounds in 20 caught one (all 4 of CI's
        // rounds missing it, about 1 run in 600, failed the check at the end); without it, 20 in 20.
        const until = Date.now() + 20_000;
        while (Date.now() < until && tempsIn(data, 'import', importer.pid) === 0) await sleep(2);
        if (faults.import > 0) await sleep(Math.floor(Math.random() * 25));
        for (const k of KINDS) if (tempsIn(data, k) > 0) faults[k]++;
        // Files mid-write are owner-only too (multer's and SQLite's through `aps serve`'s umask).
        for (const k of KINDS) {
          for (const f of readdirSync(join(data, TEMP_OF[k]))) {
            const mode = statSync(join(data, TEMP_OF[k], f), { throwIfNoEntry: false })?.mode;
            if (mode !== undefined) assert.equal(mode & 0o077, 0, `${TEMP_OF[k]}/${f} is owner-only`);
          }
        }
        tempsAtKill += KINDS.reduce((n, k) => n + tempsIn(data, k), 0);
        server.child.kill('SIGKILL');
        importer.kill('SIGKILL');
        await Promise.all([server.exited, importerExited]);

        server = await spawnServe(['--host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--no-ftp'], env);
        const left = leftovers(data, server.child.pid!);
        assert.deepEqual(left, [], `round ${round}: temp files left by the killed writers`);
        const r = await verifyData(data);
        assert.deepEqual(r.integrity, [], `round ${round}: store integrity`);
        assert.deepEqual(r.blobs.mismatched, [], `round ${round}: an artifact whose blob does not match its sha256`);
        assert.deepEqual(r.blobs.missing, [], `round ${round}: an artifact without its blob`);
        assert.deepEqual(r.deviceBackupsMissing, [], `round ${round}: a device backup without its file`);
        orphans = r.blobs.orphans.length;
        assert.ok(r.blobs.checked >= round, `round ${round}: the artifacts synced whole are listed and checked`);
        // Every listed device backup opens (sealed: a cut one fails its tag) and is a body sent whole.
        const api = (path: string): Promise<Response> =>
          fetch(`http://127.0.0.1:${server.listening.http}/api/v1${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const list = (await (await api(`/devices/${PHONE.id}/backups`)).json()) as Array<{ seq: number }>;
        assert.ok(list.length >= round, `round ${round}: the whole backups are listed`);
        for (const b of list) {
          const got = await api(`/devices/${PHONE.id}/backups/${b.seq}`);
          assert.equal(got.status, 200);
          assert.ok(sentBackups.has(sha(Buffer.from(await got.arrayBuffer()))), `round ${round}: backup ${b.seq} is a whole body`);
        }
      }
    } finally {
      sftp.stallOnRead = null;
      assert.equal(await server.stop(), 0, server.output());
    }
    const injected = Object.values(faults).reduce((a, b) => a + b, 0);
    t.diagnostic(
      `${ROUNDS} kills; kinds mid-write at the kill ${JSON.stringify(faults)} (${injected} faults); ${tempsAtKill} temp files at the kills; 0 left after restart; ${orphans} orphan blobs`,
    );
    // Each kind was caught mid-write at least once: the kills were not all before or after the work.
    for (const k of KINDS) assert.ok(faults[k] > 0, `no kill caught a ${k} mid-write`);
  });
});
