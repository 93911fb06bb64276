import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { ADAPTERS } from '../adapters/index.ts';
import { defineAdapter, type AdapterContext } from '../src/adapter-api.ts';
import { Catalog } from '../src/catalog/catalog.ts';
import { loadConfig } from '../src/config.ts';
import { DeviceRegistry } from '../src/devices/registry.ts';
import { Keyring } from '../src/devices/secrets.ts';
import { EventSink } from '../src/events/event-sink.ts';
import { createLogger } from '../src/log.ts';
import { RenderedFiles } from '../src/render/rendered-files.ts';
import { RevisionStore } from '../src/render/revisions.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { Store } from '../src/store/index.ts';
import { DeviceFiles } from '../src/transport/device-files.ts';
import { tempDir } from './helpers/server.ts';

// Issue 8: the AdapterContext is built from narrow services, not spread from the core. A spy adapter
// registered beside the real ones records what it receives, at run time.
describe('the AdapterContext an adapter receives', () => {
  let server: RunningServer;
  let ctx: AdapterContext;
  before(async () => {
    const spy = defineAdapter({
      name: 'spy',
      description: 'records its context',
      configSchema: z.object({}).strict(),
      profileSchema: z.object({}).strict(),
      credentials: 'hash',
      register(c) {
        ctx = c;
      },
      setup: () => ({ url: '', hints: [] }),
      preview: () => [],
    });
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: tempDir(),
        logLevel: 'silent',
        adminToken: 'test-admin-token-0123456789',
        http: { host: '127.0.0.1', port: 0 },
        https: { enabled: false },
        ftp: { enabled: false },
      },
    });
    server = await startServer(config, [...ADAPTERS, spy], createLogger('silent'));
  });
  after(async () => {
    await server.close();
  });

  it('has exactly the contract keys: no store, keyring, server config or other adapters', () => {
    assert.deepEqual(Object.keys(ctx).sort(), [
      'access',
      'backups',
      'catalog',
      'config',
      'devices',
      'events',
      'files',
      'ftp',
      'log',
      'name',
      'profiles',
      'push',
      'rendered',
      'revisions',
      'router',
      'secrets',
      'state',
      'urls',
      'windows',
    ]);
  });

  it('holds no core instance, one level down either (they carry the store)', () => {
    const internal = [Store, Keyring, DeviceRegistry, Catalog, EventSink, RevisionStore, RenderedFiles, DeviceFiles];
    const values = Object.values(ctx).flatMap((v: unknown) => [v, ...(v && typeof v === 'object' ? (Object.values(v) as unknown[]) : [])]);
    for (const v of values) {
      for (const cls of internal) assert.ok(!(v instanceof cls), `a ${cls.name} reached the adapter`);
    }
    assert.ok(!('store' in ctx) && !('keys' in ctx) && !('stateOf' in ctx) && !('adapterConfig' in ctx) && !('aps' in ctx));
  });

  it('sees only its own devices and profiles, and its own kv namespace', () => {
    server.core.devices.upsert({ id: 'a-vop', profile: 'vop', password: 'pw' });
    assert.equal(ctx.devices.get('a-vop'), undefined, "another family's device is not visible");
    assert.equal(ctx.devices.list().length, 0);
    assert.equal(ctx.devices.state('a-vop'), undefined);
    assert.equal(ctx.profiles.get('vop'), undefined);
    assert.throws(() => ctx.devices.upsert({ id: 'a-vop', vars: { x: '1' } }), /belongs to another device family/);
    assert.throws(() => ctx.devices.upsert({ id: 'new', profile: 'vop' }), /not a spy profile/);
    server.core.stateOf('vop').set('k', 1);
    assert.equal(ctx.state.get('k'), undefined);
    ctx.state.set('k', 2);
    assert.equal(server.core.stateOf('spy').get('k'), 2);
    assert.equal(server.core.stateOf('vop').get('k'), 1, "the other adapter's value is untouched");
  });

  it("counts only its own family's pending devices", () => {
    server.core.devices.upsert({ id: 'p-vop', profile: 'vop', password: 'pw', status: 'pending' });
    assert.equal(ctx.devices.countPending(), 0, "another family's pending device is not counted");
    assert.equal(server.core.servicesFor('vop').devices.countPending(), 1);
    server.core.devices.upsert({ id: 'p-vop', status: 'active' });
    assert.equal(server.core.servicesFor('vop').devices.countPending(), 0, 'an approved device no longer waits');
  });

  it('derives keys under its own name', () => {
    assert.deepEqual(ctx.secrets.key('digest'), server.core.keys.key('spy-digest'));
    assert.notDeepEqual(ctx.secrets.key('digest'), server.core.keys.key('vop-digest'));
    assert.equal(ctx.secrets.open(ctx.secrets.seal('s3cret')), 's3cret');
  });
});
