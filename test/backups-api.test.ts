import assert from 'node:assert/strict';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { ADAPTERS } from '../adapters/index.ts';
import { defineAdapter, type Adapter } from '../src/adapter-api.ts';
import { loadConfig, PACKAGE_ROOT } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { tempDir } from './helpers/server.ts';

// A device family whose backups carry a line that changes on every upload, as innovaphone's do.
const volatileAdapter: Adapter = defineAdapter({
  name: 'bkvol',
  description: 'a test adapter with volatile backup lines',
  configSchema: z.object({}).strict(),
  profileSchema: z.unknown(),
  credentials: 'hash',
  backupVolatile: [/^vars create UPDATE\//],
  register: () => undefined,
  setup: () => ({ url: 'http://example.invalid/', hints: [] }),
  preview: () => [],
});

const TOKEN = 'test-admin-token-0123456789';

describe('admin API: /api/v1/devices/:id/backups', () => {
  let s: RunningServer;
  let http: string;
  let dataDir: string;
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${http}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) } });
  const put = (deviceId: string, text: string): Promise<unknown> =>
    s.core.backups.put(Readable.from([Buffer.from(text)]), { deviceId, name: `${deviceId}.txt`, remote: '10.1.2.3' });

  before(async () => {
    dataDir = tempDir('aps-backups-api-');
    const profilesDir = tempDir('aps-backups-profiles-');
    cpSync(join(PACKAGE_ROOT, 'profiles'), profilesDir, { recursive: true });
    writeFileSync(join(profilesDir, 'bkvol.yaml'), 'adapter: bkvol\ndescription: test family\n');
    const config = loadConfig({
      env: {},
      file: undefined,
      overrides: {
        dataDir,
        profilesDir,
        logLevel: 'silent',
        adminToken: TOKEN,
        http: { host: '127.0.0.1', port: 0 },
        https: { enabled: false },
        ftp: { enabled: false },
      },
    });
    s = await startServer(config, [...ADAPTERS, volatileAdapter], createLogger('silent'));
    http = `http://127.0.0.1:${s.httpPort}`;
    s.core.devices.upsert({ id: 'op1', profile: 'vop', password: 'pw-op1' }, 'create');
    s.core.devices.upsert({ id: 'gw1', profile: 'bkvol' }, 'create');
    await put('op1', 'user=op1\nsip_password=first\n');
    await put('op1', 'user=op1\nsip_password=second\n');
    await put('gw1', 'vars create UPDATE/CHECK p 1\nconfig add A\n');
    await put('gw1', 'vars create UPDATE/CHECK p 2\nconfig add A\n');
    await put('gw1', 'vars create UPDATE/CHECK p 3\nconfig add B\n');
  });
  after(async () => {
    await s.close();
  });

  it('needs the admin token', async () => {
    assert.equal((await fetch(`${http}/api/v1/devices/op1/backups`)).status, 401);
    assert.equal((await fetch(`${http}/api/v1/devices/op1/backups/1`)).status, 401);
    assert.equal((await fetch(`${http}/api/v1/devices/op1/backups/1/restore`, { method: 'POST' })).status, 401);
  });

  it('lists backups newest first and serves their bytes', async () => {
    const r = await api('/devices/op1/backups');
    assert.equal(r.status, 200);
    const list = (await r.json()) as Array<{ seq: number; name: string; remote: string; size: number }>;
    assert.deepEqual(
      list.map((b) => [b.seq, b.name, b.remote]),
      [
        [2, 'op1.txt', '10.1.2.3'],
        [1, 'op1.txt', '10.1.2.3'],
      ],
    );
    const one = await api('/devices/op1/backups/1');
    assert.equal(one.status, 200);
    assert.equal(one.headers.get('content-type'), 'application/octet-stream');
    assert.equal(await one.text(), 'user=op1\nsip_password=first\n');
    assert.equal((await api('/devices/op1/backups/9')).status, 404);
    assert.equal((await api('/devices/nobody/backups')).status, 404);
    const bad = await api('/devices/op1/backups/x1');
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'bad_request', message: 'seq must be a positive integer, not "x1"' });
  });

  it("diffs with the device's adapter's volatile lines left out", async () => {
    const d = await api('/devices/gw1/backups/diff');
    assert.equal(d.status, 200);
    assert.match(d.headers.get('content-type') ?? '', /^text\/x-diff/);
    const text = await d.text();
    assert.match(text, /^-config add A$/m);
    assert.match(text, /^\+config add B$/m);
    assert.ok(!text.includes('UPDATE/CHECK'), text);
    assert.equal(await (await api('/devices/gw1/backups/diff?a=1&b=2')).text(), '', 'only a volatile line differs');
    assert.match(await (await api('/devices/op1/backups/diff?a=1')).text(), /^\+sip_password=second$/m);
    assert.equal((await api('/devices/gw1/backups/diff?a=zero')).status, 400);
    assert.equal((await api('/devices/gw1/backups/diff?a=7')).status, 404);
  });

  it('restores a backup that the VOP then gets as its config', async () => {
    const before = await fetch(`${http}/vop/c?u=op1&p=pw-op1`);
    assert.match(await before.text(), /rendered by APS/);
    const r = await api('/devices/op1/backups/1/restore', { method: 'POST' });
    assert.equal(r.status, 200);
    const artifact = (await r.json()) as { id: number; deviceId: string; kind: string; origin: string };
    assert.deepEqual([artifact.deviceId, artifact.kind, artifact.origin], ['op1', 'config', 'backup:1']);
    const after = await fetch(`${http}/vop/c?u=op1&p=pw-op1`);
    assert.equal(after.status, 200);
    assert.equal(await after.text(), 'user=op1\nsip_password=first\n');
    assert.equal((await api('/devices/op1/backups/5/restore', { method: 'POST' })).status, 404);
    const events = (await (await api('/events?device=op1')).json()) as Array<{ file: string; artifactId: number | null }>;
    assert.ok(events.some((e) => e.file === 'backup:1' && e.artifactId === artifact.id));
    // The audit log says who restored what: the config target before and after.
    const [audit] = (await (await api('/audit?action=backup.restore&target=op1')).json()) as Array<{
      who: string;
      after: { config: number; backup: number };
    }>;
    assert.deepEqual([audit?.who, audit?.after.config, audit?.after.backup], ['config', artifact.id, 1]);
  });

  it('removing a device removes its backups', async () => {
    assert.equal((await api('/devices/gw1', { method: 'DELETE' })).status, 204);
    assert.ok(!existsSync(join(dataDir, 'backups', 'gw1')));
    assert.deepEqual(s.core.backups.list('gw1'), []);
    assert.equal((await api('/devices/gw1/backups')).status, 404);
  });
});
