import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/server.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { Keyring } from '../devices/secrets.ts';
import { createLogger } from '../log.ts';
import { openStore, type Store } from '../store/index.ts';
import { EventSink } from './event-sink.ts';
import { until } from '../../test/helpers/until.ts';

// State is written only for devices that exist (an update queued before a removal must not outlive it).
function storeWithDevices(dir: string, ids = ['d1', 'd2', 'd3', 'f1', 'f2']): Store {
  const store = openStore(dir);
  const at = new Date().toISOString();
  for (const id of ids) {
    store.devices.upsert({
      id,
      profile: 'p',
      model: null,
      mac: null,
      group: null,
      passwordHash: null,
      passwordEnc: null,
      vars: {},
      pins: {},
      status: 'active',
      createdAt: at,
      updatedAt: at,
    });
  }
  return store;
}

describe('EventSink', () => {
  it('merges the state updates of one device into one row per flush, and prunes old events', () => {
    const dir = tempDir('aps-sink-');
    const store = storeWithDevices(dir);
    try {
      const sink = new EventSink(store, createLogger('silent'));
      sink.record({ deviceId: 'd1', adapter: 't', file: 'info', status: 200, ip: '127.0.0.1', ua: 'UA/1' });
      sink.report({ deviceId: 'd1', reported: { firmware: '1.0' } });
      sink.report({ deviceId: 'd1', reported: { bootstrap: 'b2' }, fetched: { cfg: { at: 'x', revision: 3 } } });
      sink.record({ deviceId: 'd1', adapter: 't', file: 'cfg', status: 404 });
      sink.flush();
      const st = store.devices.state('d1')!;
      assert.deepEqual(st.reported, { firmware: '1.0', bootstrap: 'b2' });
      assert.deepEqual(st.fetched, { cfg: { at: 'x', revision: 3 } });
      assert.equal(st.lastIp, '127.0.0.1');
      assert.equal(st.lastUa, 'UA/1');
      assert.equal(store.state.events({ deviceId: 'd1' }).length, 2);
      sink.report({ deviceId: 'd1', reported: { firmware: '1.1' } });
      sink.flush();
      assert.deepEqual(store.devices.state('d1')!.reported, { firmware: '1.1', bootstrap: 'b2' }, 'later reports merge over earlier ones');
      assert.equal(sink.prune(30, Date.now() + 31 * 86_400_000), 2, 'events past the retention are deleted');
      assert.equal(store.state.events({}).length, 0);
      assert.equal(sink.prune(0), 0, 'retention 0 keeps everything');
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EventSink reports without a sighting', () => {
  it('keeps last-seen when the server reports on its own (seen: false)', () => {
    const dir = tempDir('aps-sink2-');
    const store = storeWithDevices(dir);
    try {
      const sink = new EventSink(store, createLogger('silent'));
      sink.report({ deviceId: 'd2', reported: { firmware: '1' } });
      sink.flush();
      const seen = store.devices.state('d2')!.lastSeen;
      assert.ok(seen);
      sink.report({ deviceId: 'd2', reported: { lastFault: 9010 }, seen: false });
      sink.flush();
      const st = store.devices.state('d2')!;
      assert.equal(st.lastSeen, seen);
      assert.equal(st.reported.lastFault, 9010);
      sink.report({ deviceId: 'd3', reported: { lastFault: 9010 }, seen: false });
      sink.flush();
      assert.equal(store.devices.state('d3')!.lastSeen, null, 'a device never seen stays unseen');
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EventSink device faults', () => {
  it('records a fault the device reports with its code and message, apart from the status the server answered', () => {
    const dir = tempDir('aps-sink3-');
    const store = storeWithDevices(dir);
    try {
      const sink = new EventSink(store, createLogger('silent'));
      sink.record({
        deviceId: 'f1',
        adapter: 't',
        file: 'download:firmware',
        status: 200,
        fault: { code: '9018', message: 'file corrupted' },
      });
      sink.record({ deviceId: 'f1', adapter: 't', file: 'info', status: 200 });
      sink.flush();
      const [plain, failed] = store.state.events({ deviceId: 'f1' });
      assert.deepEqual(failed!.fault, { code: '9018', message: 'file corrupted' });
      assert.equal(failed!.status, 200);
      assert.equal(plain!.fault, null);
      // A fault the server concludes on its own (a timeout) does not mean the device was heard from.
      const seen = store.devices.state('f1')!.lastSeen;
      sink.record({
        deviceId: 'f2',
        adapter: 't',
        file: 'download:firmware',
        status: 200,
        fault: { code: '9010', message: 'x' },
        seen: false,
      });
      sink.flush();
      assert.equal(store.devices.state('f2')?.lastSeen ?? null, null);
      assert.equal(store.devices.state('f1')!.lastSeen, seen);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EventSink when the store refuses writes', () => {
  it('retries while another process holds the write lock, losing nothing and never waiting for the lock', async () => {
    const dir = tempDir('aps-sink-lock-');
    const store = storeWithDevices(dir);
    const cli = new Database(join(dir, 'aps.sqlite'));
    try {
      const sink = new EventSink(store, createLogger('silent'));
      cli.exec('BEGIN IMMEDIATE'); // as `aps apply` holds it
      for (let i = 0; i < 600; i++) sink.record({ deviceId: 'd1', adapter: 't', file: `f${i}`, status: 200 });
      await until('background writes failed while locked', () => sink.stats().writeFailures >= 2);
      assert.equal(sink.stats().queued, 600, 'the events wait');
      assert.equal(sink.stats().dropped, 0);
      cli.exec('COMMIT');
      await until('written once the lock is gone', () => sink.stats().queued === 0);
      assert.equal(store.state.events({ limit: 1000 }).length, 600);
      assert.deepEqual(sink.stats(), { written: 600, dropped: 0, writeFailures: sink.stats().writeFailures, queued: 0 });
      assert.ok(store.devices.state('d1')?.lastSeen, 'state written too');
    } finally {
      cli.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a report not written yet is read through: the registry answers what the row will hold once written', async () => {
    const dir = tempDir('aps-sink-read-');
    const store = storeWithDevices(dir);
    const cli = new Database(join(dir, 'aps.sqlite'));
    try {
      const sink = new EventSink(store, createLogger('silent'));
      const devices = new DeviceRegistry(store, Keyring.load(dir), {
        needsClearSecret: () => false,
        assertProfile: () => undefined,
        credentialCacheMs: 0,
        queuedState: (id) => sink.queuedState(id),
      });
      sink.report({ deviceId: 'd1', ip: '10.0.0.1', reported: { url: 'http://a/', nested: { x: 1, y: 2 }, gone: 'soon' } });
      sink.flush();
      cli.exec('BEGIN IMMEDIATE'); // as `aps apply` holds it: the sink cannot write, however long it waits
      sink.report({ deviceId: 'd1', reported: { url: 'http://b/', nested: { y: 3 }, gone: null } });
      sink.report({ deviceId: 'd2', ua: 'UA/2', reported: { url: 'http://c/' } });
      await until('a background write failed while locked', () => sink.stats().writeFailures >= 1);
      assert.equal(store.devices.state('d1')!.reported.url, 'http://a/', 'the row itself is not written yet');
      const d1 = devices.state('d1')!;
      const d2 = devices.state('d2')!;
      // The same JSON merge patch as the write: nested objects merge, null deletes.
      assert.deepEqual(d1.reported, { url: 'http://b/', nested: { x: 1, y: 3 } });
      assert.equal(d1.lastIp, '10.0.0.1');
      assert.ok(d1.lastSeen);
      assert.deepEqual(d2.reported, { url: 'http://c/' }, 'a device with no row yet');
      assert.equal(d2.lastUa, 'UA/2');
      assert.equal(devices.state('d3'), undefined, 'nothing reported, nothing stored');
      cli.exec('COMMIT');
      await until('written once the lock is gone', () => sink.queuedState('d1') === undefined);
      assert.deepEqual(store.devices.state('d1'), d1, 'the written row is what was read through');
      assert.deepEqual(store.devices.state('d2'), d2);
    } finally {
      cli.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts what it drops: the queue over its bound, a row the store rejects, what a locked store keeps at close', async () => {
    const dir = tempDir('aps-sink-drop-');
    const store = storeWithDevices(dir);
    const cli = new Database(join(dir, 'aps.sqlite'), { timeout: 0 });
    try {
      const sink = new EventSink(store, createLogger('silent'), { maxQueued: 100 });
      cli.exec('BEGIN IMMEDIATE');
      for (let i = 0; i < 150; i++) sink.record({ deviceId: 'd1', adapter: 't', file: `f${i}`, status: 200 });
      assert.deepEqual([sink.stats().queued, sink.stats().dropped], [100, 50], 'the oldest 50 dropped, counted');
      cli.exec('COMMIT');
      await until('the rest written', () => sink.stats().queued === 0);
      assert.equal(store.state.events({ limit: 1000 })[0]?.file, 'f149');
      assert.equal(store.state.events({ limit: 1000 }).length, 100);

      // A row the schema rejects fails its batch again and again: after a few tries only that row is dropped.
      sink.record({ deviceId: 'd2', adapter: 't', file: 'good-1', status: 200 });
      sink.record({ deviceId: 'd2', adapter: 't', file: null as unknown as string, status: 200 });
      sink.record({ deviceId: 'd2', adapter: 't', file: 'good-2', status: 200 });
      await until('the batch split', () => sink.stats().queued === 0);
      assert.equal(sink.stats().dropped, 51);
      assert.deepEqual(
        store.state
          .events({ deviceId: 'd2' })
          .map((e) => e.file)
          .sort(),
        ['good-1', 'good-2'],
      );

      sink.record({ deviceId: 'd2', adapter: 't', file: 'after-split', status: 200 });
      await until('written by the timer after a split, no flush asked', () => store.state.events({ deviceId: 'd2' }).length === 3);

      cli.exec('BEGIN IMMEDIATE');
      sink.record({ deviceId: 'd3', adapter: 't', file: 'late', status: 200 });
      store.db.pragma('busy_timeout = 0'); // so close() does not wait five seconds for the lock
      sink.close();
      assert.equal(sink.stats().dropped, 52, 'an event the store never took is counted at close');
      cli.exec('COMMIT');
    } finally {
      cli.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
