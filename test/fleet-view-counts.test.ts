import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fleetView, type FleetProfile, type FleetView } from '../src/devices/fleet.ts';
import { startRollout } from '../src/rollouts/rollouts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

// The fleet view counts in SQL groups of devices that share a firmware target, and asks the catalog per
// device only for those with something of their own (pins, a pinning group, their own artifact, a
// rollout). It must give what asking the catalog for every device (how it was computed before) gives.
describe('fleet view counts', () => {
  let s: TestServer;

  before(async () => {
    s = await startTestServer();
    const c = s.core;
    const fw = (v: string, extra: { models?: string[]; deviceId?: string } = {}): Promise<{ id: number }> =>
      c.catalog.addBuffer(Buffer.from(`fw ${v} ${extra.deviceId ?? ''}`), {
        kind: 'firmware',
        profile: 'vop',
        version: v,
        serial: Number(v.replace('.', '')),
        filename: `v${v}${extra.deviceId ?? ''}.bin`,
        ...extra,
      });
    c.devices.upsertGroup({ name: 'slow', vars: {}, pins: {}, release: 'manual' });
    const old = await fw('1.0');
    c.devices.upsertGroup({ name: 'held', vars: {}, pins: { firmware: old.id }, release: null });
    for (let i = 0; i < 60; i++) {
      const id = `d${String(i).padStart(3, '0')}`;
      const group = ['slow', 'held', 'lab', undefined][i % 4];
      c.devices.upsert({
        id,
        profile: i % 10 === 9 ? 'audiocodes-mp124' : 'vop',
        model: i % 10 === 9 ? undefined : 'VOP',
        mac: i % 10 === 9 ? `00908f0000${String(i).padStart(2, '0')}` : undefined,
        group,
        status: i % 11 === 0 ? 'pending' : 'active',
      });
      if (i % 5 < 3)
        c.store.devices.updateState({ deviceId: id, at: new Date().toISOString(), reported: { firmware: ['1.0', '2.0', '3.0'][i % 3]! } });
    }
    await fw('2.0', { models: ['VOP'] });
    const newest = await fw('3.0');
    await fw('2.5', { deviceId: 'd005' });
    c.devices.upsert({ id: 'd010', profile: 'vop', model: 'VOP', pins: { firmware: old.id } });
    startRollout(c, { artifactId: newest.id, groups: ['slow'], stages: [50, 100] }, 'test');
    c.events.flush();
  });
  after(async () => {
    await s.stop();
  });

  /** The view as computed before: every device read, the catalog asked for each active one. */
  function reference(after: string | undefined, limit: number): Omit<FleetView, 'versions'> {
    const c = s.core;
    const profiles = new Map<string, FleetProfile>();
    const devices: FleetView['devices'] = [];
    const pending: FleetView['pending'] = [];
    let next: string | null = null;
    for (const row of c.store.state.fleetDevices()) {
      const p = profiles.get(row.profile) ?? { profile: row.profile, active: 0, pending: 0, onTarget: 0, behind: 0, unknown: 0 };
      profiles.set(row.profile, p);
      if (row.status === 'pending') {
        p.pending++;
        pending.push({ id: row.id, profile: row.profile, model: row.model, lastSeen: row.lastSeen });
        continue;
      }
      p.active++;
      const t = c.catalog.target(row, 'firmware');
      if (t) {
        if (row.version === null) p.unknown++;
        else if (row.version !== t.version) p.behind++;
        else p.onTarget++;
      }
      if (after !== undefined && row.id <= after) continue;
      const d = {
        id: row.id,
        profile: row.profile,
        model: row.model,
        target: t ? t.version : null,
        targetId: t?.id ?? null,
        version: row.version,
        basis: row.basis,
        behind: t !== undefined && row.version !== null && row.version !== t.version,
        lastSeen: row.lastSeen,
      };
      if (devices.length < limit) devices.push(d);
      else next ??= devices[devices.length - 1]!.id;
    }
    return { profiles: [...profiles.values()], devices, pending, next };
  }

  it('gives the same counts, pages and pending list as asking the catalog for every device', () => {
    const full = reference(undefined, 1000);
    assert.ok(
      full.profiles.some((p) => p.onTarget > 0 && p.behind > 0 && p.unknown > 0 && p.pending > 0),
      JSON.stringify(full.profiles),
    );
    assert.ok(new Set(full.devices.map((d) => d.target)).size >= 3, 'pins, groups, own artifacts and the rollout give different targets');
    for (const [after, limit] of [
      [undefined, 100],
      [undefined, 7],
      ['d020', 7],
      ['d055', 100],
      ['zzz', 5],
    ] as const) {
      const { versions, ...got } = fleetView(s.core, { after, limit });
      assert.ok(versions.length > 0);
      assert.deepEqual(got, reference(after, limit), `after ${after} limit ${limit}`);
    }
  });
});
