import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/server.ts';
import { createLogger } from '../log.ts';
import { openStore } from '../store/index.ts';
import { EventSink } from './event-sink.ts';

describe('EventSink', () => {
  it('merges the state updates of one device into one row per flush, and prunes old events', () => {
    const dir = tempDir('aps-sink-');
    const store = openStore(dir);
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
    const store = openStore(dir);
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
    const store = openStore(dir);
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
