import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { describeDevice, firmwareOf, isStale } from '../src/devices/describe.ts';
import { listDevices, type DeviceListQuery } from '../src/devices/device-list.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

// The device list pages in SQL from the primary key (DeviceRegistry.scan) for the cursor and the profile,
// adapter, group, own-status and text filters. Walking every page of any filter must give exactly the devices,
// in id order, that filtering the whole list in memory (how the list was computed before) gives.
describe('device list paging in SQL', () => {
  let s: TestServer;
  const PROFILES = ['vop', 'audiocodes-mp124', 'thomson-tr069'];
  const GROUPS = ['lab', 'hq', undefined];

  before(async () => {
    s = await startTestServer();
    const c = s.core;
    for (let i = 0; i < 120; i++) {
      const profile = PROFILES[i % 3]!;
      const id = `${['a', 'B', 'c', 'dev'][i % 4]}${String(i).padStart(3, '0')}`;
      const mac =
        profile === 'audiocodes-mp124'
          ? `00:90:8f:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`
          : undefined;
      c.devices.upsert({
        id,
        profile,
        group: GROUPS[(i % 5) % 3],
        mac,
        status: i % 7 === 0 ? 'pending' : 'active',
        password: profile === 'vop' ? 'pw' : undefined,
      });
      // Some seen (with an IP and a firmware), some seen long ago (stale), some never.
      if (i % 4 !== 3) {
        const at = new Date(Date.now() - (i % 4 === 2 ? 30 * 86400_000 : 1000)).toISOString();
        c.store.devices.updateState({ deviceId: id, at, ip: `10.0.${i % 3}.${i}`, reported: i % 2 ? { firmware: `v${i % 3}` } : {} });
      }
    }
  });
  after(async () => {
    await s.stop();
  });

  /** The list as it was computed before: every device, filtered in memory. */
  function reference(q: DeviceListQuery): string[] {
    const c = s.core;
    const states = new Map(c.devices.states().map((x) => [x.deviceId, x]));
    const text = q.q?.trim().toLowerCase();
    const mac = text?.replace(/[:.\-\s]/g, '');
    return c.devices
      .list()
      .filter((d) => {
        const st = states.get(d.id);
        if (q.profile && d.profile !== q.profile) return false;
        if (q.group && d.group !== q.group) return false;
        if (q.adapter && c.adapterNameOf(d.profile) !== q.adapter) return false;
        if (q.version && firmwareOf(st)?.version !== q.version) return false;
        if ((q.status === 'active' || q.status === 'pending') && d.status !== q.status) return false;
        if (q.status === 'stale' && !isStale(st?.lastSeen)) return false;
        if (text && !d.id.toLowerCase().includes(text) && !(mac && d.mac?.includes(mac)) && !st?.lastIp?.includes(text)) return false;
        return true;
      })
      .map((d) => d.id);
  }

  function walk(q: DeviceListQuery, limit: number): string[] {
    const got: string[] = [];
    let after: string | undefined;
    for (let n = 0; n < 200; n++) {
      const page = listDevices(s.core, { ...q, limit, after });
      assert.ok(page.items.length <= limit);
      got.push(...page.items.map((d) => d.id));
      if (page.next === null) return got;
      assert.equal(page.items.length, limit, 'a page with a next is full');
      assert.equal(page.next, page.items.at(-1)!.id);
      after = page.next;
    }
    throw new Error('more than 200 pages');
  }

  it('gives the same devices, in the same order, for every filter and page size', () => {
    let nonEmpty = 0;
    fc.assert(
      fc.property(
        // One or two filters at a time (more rarely match anything in 120 devices), each from a set of values.
        fc
          .record({
            profile: fc.constantFrom(...PROFILES, 'nope'),
            adapter: fc.constantFrom('vop', 'audiocodes', 'tr069', 'nope'),
            group: fc.constantFrom('lab', 'hq', 'x'),
            version: fc.constantFrom('v0', 'v1', 'v2'),
            status: fc.constantFrom('active', 'pending', 'stale'),
            q: fc.constantFrom('a0', 'b', 'DEV', '00:90:8F', '908f0000', '10.0.1', ' c1 ', ':', '9'),
          })
          .chain((all) =>
            fc
              .subarray(Object.keys(all) as Array<keyof typeof all>, { maxLength: 2 })
              .map((keys): DeviceListQuery => Object.fromEntries(keys.map((k) => [k, all[k]]))),
          ),
        fc.constantFrom(1, 3, 7, 50, 1000),
        (q, limit) => {
          const want = reference(q);
          if (want.length > 0) nonEmpty++;
          assert.deepEqual(walk(q, limit), want, JSON.stringify(q));
        },
      ),
      { numRuns: 150 },
    );
    assert.ok(nonEmpty >= 30, `only ${nonEmpty} of 150 filters matched anything`);
  });

  it('starts after a cursor that is not a device id (between two ids)', () => {
    const all = reference({});
    const page = listDevices(s.core, { after: 'B05', limit: 5 });
    assert.deepEqual(
      page.items.map((d) => d.id),
      all.filter((id) => id > 'B05').slice(0, 5),
    );
  });

  it('describes a listed device as a single get does (secrets opened, then masked)', () => {
    s.core.devices.upsert({ id: 'a000', profile: 'vop', password: 'pw', vars: { sip_password: 'sip-secret-7', line: '1' } });
    const [first] = listDevices(s.core, { q: 'a000', limit: 1 }).items;
    assert.ok(first);
    assert.deepEqual(first, describeDevice(s.core, s.core.devices.get('a000')!));
  });
});
