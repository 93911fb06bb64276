import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ADAPTERS } from '../adapters/index.ts';
import { tempDir } from './helpers/server.ts';
import { loadConfig } from '../src/config.ts';
import { openCore, type Core } from '../src/core.ts';
import { removeDevice } from '../src/devices/remove-device.ts';
import { isApsError } from '../src/errors.ts';
import { createLogger } from '../src/log.ts';
import { buildAdapterServices } from '../src/adapter-services.ts';
import { renderDeviceConfig } from '../src/render/device-template.ts';

const CONFIG_A =
  'config add SIP0 /user alice /pwd s3cret-sip\r\nvars create UPDATE/CHECK p 41\r\nconfig change UP1 /url http://10.0.0.1/\r\n';
const CONFIG_B = 'config add SIP0 /user alice /pwd s3cret-sip\r\nconfig add GW1 /name trunk\r\nvars create UPDATE/CHECK p 42\r\n';
const VOLATILE = [/^vars create UPDATE\//, /^config change UP1 /];

function open(dataDir: string, keep = 3, maxBytes = 1024): Core {
  const config = loadConfig({ env: {}, file: undefined, overrides: { dataDir, logLevel: 'silent', backups: { keep, maxBytes } } });
  return openCore(config, ADAPTERS, createLogger('silent'));
}

/** A body that sends some bytes, then fails (`error`) or just closes (`close`) before its end. */
function brokenBody(how: 'error' | 'close'): Readable {
  let sent = false;
  return new Readable({
    read(): void {
      if (!sent) {
        sent = true;
        this.push(Buffer.from('config add SIP0 /user half'));
        return;
      }
      setImmediate(() => (how === 'error' ? this.destroy(new Error('connection reset')) : this.destroy()));
    },
  });
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('backups configuration', () => {
  it('defaults to 20 backups of at most 1 MiB; APS_BACKUPS_* override; bad values fail naming the key', () => {
    const d = loadConfig({ env: {}, file: undefined });
    assert.deepEqual(d.backups, { keep: 20, maxBytes: 1024 * 1024 });
    const e = loadConfig({ env: { APS_BACKUPS_KEEP: '5', APS_BACKUPS_MAX_BYTES: '2048' }, file: undefined });
    assert.deepEqual(e.backups, { keep: 5, maxBytes: 2048 });
    assert.throws(() => loadConfig({ env: { APS_BACKUPS_KEEP: 'many' }, file: undefined }), /APS_BACKUPS_KEEP: not a non-negative integer/);
    assert.throws(() => loadConfig({ env: { APS_BACKUPS_KEEP: '0' }, file: undefined }), /backups\.keep/);
  });
});

describe('BackupStore', () => {
  let dataDir: string;
  let core: Core;
  const vop = (): ReturnType<typeof buildAdapterServices> =>
    buildAdapterServices(
      core,
      ADAPTERS.find((a) => a.name === 'vop')!,
    );
  const tmpFiles = (): string[] => files(join(dataDir, 'backups', 'tmp'));

  before(() => {
    dataDir = tempDir('aps-backups-');
    core = open(dataDir);
    core.devices.upsert({ id: 'alice', profile: 'vop', password: 'pw-alice' }, 'create');
    core.devices.upsert({ id: 'bob', profile: 'vop', password: 'pw-bob' }, 'create');
  });
  after(() => core.close());

  it('stores a backup sealed at rest and gives it back as sent', async () => {
    const { backup, created } = await core.backups.put(Readable.from([Buffer.from(CONFIG_A)]), {
      deviceId: 'alice',
      name: '00-90-33-01-02-03-20261130-120000-0.txt',
      slot: 0,
      remote: '10.0.0.7',
    });
    assert.equal(created, true);
    assert.equal(backup.seq, 1);
    assert.equal(backup.size, Buffer.byteLength(CONFIG_A));
    assert.equal(backup.slot, 0);
    assert.equal(backup.remote, '10.0.0.7');
    assert.match(backup.sha256, /^[0-9a-f]{64}$/);
    assert.equal(core.backups.read('alice', 1).toString(), CONFIG_A);
    assert.deepEqual(core.backups.list('alice'), [backup]);
    assert.deepEqual(core.backups.get('alice', 1), backup);
    assert.deepEqual(core.backups.list('bob'), [], "another device's list is its own");
    const [file] = files(join(dataDir, 'backups', 'alice'));
    const onDisk = readFileSync(join(dataDir, 'backups', 'alice', file!));
    assert.equal(statSync(join(dataDir, 'backups', 'alice', file!)).mode & 0o777, 0o600);
    assert.ok(!onDisk.includes('s3cret-sip'), 'the file on disk is sealed, not the clear config');
    assert.deepEqual(tmpFiles(), []);
  });

  it('answers a PUT identical to the latest backup with that backup, storing nothing new', async () => {
    const before = files(join(dataDir, 'backups', 'alice'));
    const again = await core.backups.put(Readable.from([Buffer.from(CONFIG_A.slice(0, 10)), Buffer.from(CONFIG_A.slice(10))]), {
      deviceId: 'alice',
      name: 'retry.txt',
      slot: 1,
    });
    assert.equal(again.created, false);
    assert.equal(again.backup.seq, 1);
    assert.equal(again.backup.name, '00-90-33-01-02-03-20261130-120000-0.txt');
    assert.equal(core.backups.list('alice').length, 1);
    assert.deepEqual(files(join(dataDir, 'backups', 'alice')), before);
    assert.deepEqual(tmpFiles(), []);
  });

  it('refuses a body beyond maxBytes with too_large and keeps nothing', async () => {
    const big = Readable.from([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')]);
    await assert.rejects(core.backups.put(big, { deviceId: 'alice', name: 'big.txt' }), (e) => isApsError(e) && e.code === 'too_large');
    const small = Readable.from([Buffer.alloc(20, 'c')]);
    await assert.rejects(
      core.backups.put(small, { deviceId: 'alice', name: 'small.txt', maxBytes: 10 }),
      (e) => isApsError(e) && e.status === 413,
      'a per-call limit overrides the configured one',
    );
    assert.equal(core.backups.list('alice').length, 1);
    assert.deepEqual(tmpFiles(), []);
    assert.equal(files(join(dataDir, 'backups', 'alice')).length, 1);
  });

  it('stores nothing from a body that fails or closes before its end', async () => {
    for (const how of ['error', 'close'] as const) {
      await assert.rejects(
        core.backups.put(brokenBody(how), { deviceId: 'alice', name: 'cut.txt' }),
        (e) => isApsError(e) && e.code === 'bad_request' && /ended early/.test(e.message),
        how,
      );
    }
    assert.equal(core.backups.list('alice').length, 1);
    assert.deepEqual(tmpFiles(), []);
    assert.equal(files(join(dataDir, 'backups', 'alice')).length, 1);
  });

  it('refuses an unknown device, a bad name and an empty body', async () => {
    await assert.rejects(core.backups.put(Readable.from(['x']), { deviceId: 'nobody', name: 'x' }), /no device nobody/);
    await assert.rejects(core.backups.put(Readable.from(['x']), { deviceId: 'alice', name: 'a\nb' }), /control characters/);
    await assert.rejects(core.backups.put(Readable.from([]), { deviceId: 'alice', name: 'empty.txt' }), /empty backup/);
    assert.throws(
      () => core.backups.read('alice', 99),
      (e) => isApsError(e) && e.code === 'not_found',
    );
    assert.deepEqual(tmpFiles(), []);
  });

  it('keeps the last backups.keep per device and finds the latest of a slot', async () => {
    for (let i = 2; i <= 5; i++) {
      const r = await core.backups.put(Readable.from([`${CONFIG_B}# ${i}\r\n`]), { deviceId: 'alice', name: `b${i}.txt`, slot: i % 2 });
      assert.equal(r.backup.seq, i);
    }
    assert.deepEqual(
      core.backups.list('alice').map((b) => b.seq),
      [5, 4, 3],
    );
    assert.equal(files(join(dataDir, 'backups', 'alice')).length, 3, 'files of pruned backups are removed');
    assert.equal(core.backups.latest('alice')?.seq, 5);
    assert.equal(core.backups.latest('alice', 0)?.seq, 4);
    assert.equal(core.backups.latest('alice', 1)?.seq, 5);
    assert.equal(core.backups.latest('alice', null), undefined);
    assert.equal(core.backups.get('alice', 1), undefined);
  });

  it('diffs previous against latest by default, ignoring volatile lines', async () => {
    await core.backups.put(Readable.from([CONFIG_A]), { deviceId: 'bob', name: 'b1.txt' });
    const changedOnlyVolatile = CONFIG_A.replace('p 41', 'p 77').replace('10.0.0.1', '10.0.0.2');
    await core.backups.put(Readable.from([changedOnlyVolatile]), { deviceId: 'bob', name: 'b2.txt' });
    await core.backups.put(Readable.from([CONFIG_B]), { deviceId: 'bob', name: 'b3.txt' });
    assert.equal(core.backups.diff('bob', 1, 2, VOLATILE), '', 'only volatile lines differ');
    assert.match(core.backups.diff('bob', 1, 2), /^-vars create UPDATE\/CHECK p 41$/m, 'without patterns they show');
    const d = core.backups.diff('bob', undefined, undefined, VOLATILE);
    assert.match(d, /^--- bob backup 2\t/m);
    assert.match(d, /^\+\+\+ bob backup 3\t/m);
    assert.match(d, /^\+config add GW1 \/name trunk$/m);
    assert.ok(!/UPDATE\/CHECK|config change UP1/.test(d), d);
    assert.match(core.backups.diff('bob', undefined, 1), /^--- \/dev\/null/m, 'the first backup is compared with nothing');
    assert.throws(() => core.backups.diff('bob', 9), /no backup 9/);
    assert.throws(() => core.backups.diff('carol-unknown'), /has no backups/);
  });

  it("restores a backup as the device's own config, moving a config pin to it", async () => {
    const device = core.devices.get('bob')!;
    const before = renderDeviceConfig(vop(), device)!;
    assert.notEqual(before.bytes.toString(), CONFIG_A, 'the template config before');
    const a1 = await core.backups.restore('bob', 1, 'test');
    assert.equal(a1.deviceId, 'bob');
    assert.equal(a1.kind, 'config');
    assert.equal(a1.origin, 'backup:1');
    const served = renderDeviceConfig(vop(), core.devices.get('bob')!)!;
    assert.equal(served.bytes.toString(), CONFIG_A);
    assert.ok(served.revision.serial > before.revision.serial, 'a new config revision');

    // An operator pinned the device's config to another artifact: a restore still wins, by moving the pin.
    const other = await core.catalog.addBuffer(Buffer.from('pinned config'), {
      kind: 'config',
      profile: 'vop',
      deviceId: 'bob',
      filename: 'p.cfg',
    });
    core.devices.upsert({ id: 'bob', pins: { config: other.id } }, 'update');
    const a3 = await core.backups.restore('bob', 3, 'test');
    assert.equal(core.devices.get('bob')!.pins.config, a3.id);
    assert.equal(renderDeviceConfig(vop(), core.devices.get('bob')!)!.bytes.toString(), CONFIG_B);
    assert.equal(core.catalog.get(a1.id), undefined, 'the earlier restore left the catalog');
    // A config the profile's order ranks above any restore (a higher version), and no pin: still the restore wins.
    core.devices.upsert({ id: 'bob', pins: { config: null } }, 'update');
    await core.catalog.addBuffer(Buffer.from('v10 config'), {
      kind: 'config',
      profile: 'vop',
      deviceId: 'bob',
      version: '10',
      filename: 'v10.cfg',
    });
    const a4 = await core.backups.restore('bob', 1, 'test');
    assert.equal(renderDeviceConfig(vop(), core.devices.get('bob')!)!.bytes.toString(), CONFIG_A, 'the restored bytes are served');
    assert.equal(core.devices.get('bob')!.pins.config, a4.id, 'held by a pin');
    const again = await core.backups.restore('bob', 3, 'test');
    assert.ok(core.catalog.get(again.id), 'restoring the same backup twice keeps its artifact');
    assert.equal(renderDeviceConfig(vop(), core.devices.get('bob')!)!.bytes.toString(), CONFIG_B);
    core.events.flush();
    const ev = core.store.state.events({ deviceId: 'bob' });
    assert.ok(ev.some((e) => e.file === 'backup:3' && e.artifactId === a3.id && /restored/.test(e.detail ?? '')));
    assert.equal(core.devices.state('bob')?.lastSeen ?? null, null, 'a restore is not the device being seen');
    await assert.rejects(core.backups.restore('bob', 42, 'test'), /no backup 42/);
  });

  it('removes files a crash left behind when it opens, and nothing else', async () => {
    const aliceDir = join(dataDir, 'backups', 'alice');
    const kept = files(aliceDir).sort();
    writeFileSync(join(dataDir, 'backups', 'tmp', '999999999-0123456789abcdef.tmp'), 'half an upload');
    writeFileSync(join(aliceDir, '999999999-fedcba9876543210.bak'), 'renamed, never recorded');
    writeFileSync(join(aliceDir, 'stray'), 'no writer at all');
    // Another live process (a server beside this CLI) is still writing this one; a file with our own pid is a
    // previous process's (a container's server is PID 1 at every start).
    const live = join(dataDir, 'backups', 'tmp', `${process.ppid}-00000000000000aa.tmp`);
    writeFileSync(live, 'an upload of a running process');
    writeFileSync(join(dataDir, 'backups', 'tmp', `${process.pid}-00000000000000bb.tmp`), 'left by a process that had our pid');
    core.close();
    core = open(dataDir);
    assert.deepEqual(files(aliceDir).sort(), kept);
    assert.deepEqual(tmpFiles(), [`${process.ppid}-00000000000000aa.tmp`], "a running writer's temp file stays");
    assert.equal(core.backups.read('alice', 5).toString(), `${CONFIG_B}# 5\r\n`);
  });

  it('removes the backups of a removed device; a new device of that id starts clean', async () => {
    await removeDevice(core, 'alice', 'test');
    assert.ok(!existsSync(join(dataDir, 'backups', 'alice')));
    core.devices.upsert({ id: 'alice', profile: 'vop' }, 'create');
    assert.deepEqual(core.backups.list('alice'), []);
    const r = await core.backups.put(Readable.from(['fresh']), { deviceId: 'alice', name: 'f.txt' });
    assert.equal(r.backup.seq, 1);
  });
});

describe('BackupStore over real HTTP (a chunked PUT as innovaphone sends it)', () => {
  let core: Core;
  let dataDir: string;
  let server: Server;
  let port: number;
  // Each request's handling, by path: a test waits for it instead of sleeping.
  const handled = new Map<string, Promise<unknown>>();
  const started = new Map<string, () => void>();

  before(async () => {
    dataDir = tempDir('aps-backups-http-');
    core = open(dataDir, 5, 4096);
    core.devices.upsert({ id: 'ip1', profile: 'vop' }, 'create');
    // What an adapter does with a PUT; the limit answer is 413 with Connection: close.
    server = createServer((req, res) => {
      const name = req.url!.slice(1);
      const done = core.backups
        .put(req, { deviceId: 'ip1', name, remote: req.socket.remoteAddress ?? null })
        .then(({ backup, created }) => res.writeHead(created ? 201 : 200).end(String(backup.seq)))
        .catch((e: unknown) => {
          if (res.headersSent || res.destroyed) return;
          res.writeHead(isApsError(e) ? e.status : 500, { connection: 'close' }).end(isApsError(e) ? e.code : 'internal');
        });
      handled.set(name, done);
      started.get(name)?.();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    core.close();
  });

  /** PUTs chunks with chunked transfer encoding; `cut` destroys the socket once the server handles it, instead of ending. */
  function put(name: string, chunks: Buffer[], cut = false): Promise<{ status: number; body: string } | 'cut'> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/${name}` });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', (e) => (cut ? resolve('cut') : reject(e)));
      for (const c of chunks) req.write(c);
      if (cut) started.set(name, () => req.destroy());
      else req.end();
    });
  }

  it('stores a chunked PUT, answers a retry idempotently, refuses 413 and a cut-off PUT stores nothing', async () => {
    const first = await put('cfg-0.txt', [Buffer.from('config add A\r\n'), Buffer.from('config add B\r\n')]);
    assert.deepEqual(first, { status: 201, body: '1' });
    assert.deepEqual(await put('cfg-1.txt', [Buffer.from('config add A\r\nconfig add B\r\n')]), { status: 200, body: '1' });
    const big = await put('big.txt', [Buffer.alloc(3000, 'x'), Buffer.alloc(3000, 'y')]);
    assert.deepEqual(big, { status: 413, body: 'too_large' });
    assert.equal(await put('cut.txt', [Buffer.from('config add C\r\n')], true), 'cut');
    await handled.get('cut.txt');
    assert.deepEqual(await put('cfg-2.txt', [Buffer.from('config add D\r\n')]), { status: 201, body: '2' });
    assert.deepEqual(
      core.backups.list('ip1').map((b) => [b.seq, b.name, b.remote]),
      [
        [2, 'cfg-2.txt', '127.0.0.1'],
        [1, 'cfg-0.txt', '127.0.0.1'],
      ],
    );
    assert.equal(core.backups.read('ip1', 1).toString(), 'config add A\r\nconfig add B\r\n');
    assert.deepEqual(files(join(dataDir, 'backups', 'tmp')), []);
    assert.equal(files(join(dataDir, 'backups', 'ip1')).length, 2);
  });
});
