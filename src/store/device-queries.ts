import type { Db } from './db.ts';
import { parseJson } from './db.ts';
import type { DeviceRecord, DeviceStateRecord, FetchedEntry, GroupRecord, Pins, ReleasePolicy, Vars } from './types.ts';

interface GroupRow {
  name: string;
  vars: string;
  pins: string;
  release: ReleasePolicy | null;
}

interface DeviceRow {
  id: string;
  profile: string;
  model: string | null;
  mac: string | null;
  grp: string | null;
  password_hash: string | null;
  password_enc: string | null;
  vars: string;
  pins: string;
  status: 'active' | 'pending';
  created_at: string;
  updated_at: string;
}

interface StateRow {
  device_id: string;
  last_seen: string | null;
  last_ip: string | null;
  last_ua: string | null;
  reported: string;
  fetched: string;
}

function toDevice(r: DeviceRow): DeviceRecord {
  return {
    id: r.id,
    profile: r.profile,
    model: r.model,
    mac: r.mac,
    group: r.grp,
    passwordHash: r.password_hash,
    passwordEnc: r.password_enc,
    vars: parseJson<Vars>(r.vars, {}, `devices.vars of ${r.id}`),
    pins: parseJson<Pins>(r.pins, {}, `devices.pins of ${r.id}`),
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toGroup(r: GroupRow): GroupRecord {
  return {
    name: r.name,
    vars: parseJson<Vars>(r.vars, {}, `groups.vars of ${r.name}`),
    pins: parseJson<Pins>(r.pins, {}, `groups.pins of ${r.name}`),
    release: r.release,
  };
}

interface StateParams {
  deviceId: string;
  at: string | null;
  ip: string | null;
  ua: string | null;
  reported: string;
  fetched: string;
}

function stateParams(u: StateUpdate): StateParams {
  return {
    deviceId: u.deviceId,
    at: u.at,
    ip: u.ip ?? null,
    ua: u.ua ?? null,
    reported: JSON.stringify(u.reported ?? {}),
    fetched: JSON.stringify(u.fetched ?? {}),
  };
}

function toState(r: StateRow): DeviceStateRecord {
  return {
    deviceId: r.device_id,
    lastSeen: r.last_seen,
    lastIp: r.last_ip,
    lastUa: r.last_ua,
    reported: parseJson<Record<string, unknown>>(r.reported, {}, `device_state.reported of ${r.device_id}`),
    fetched: parseJson<Record<string, FetchedEntry>>(r.fetched, {}, `device_state.fetched of ${r.device_id}`),
  };
}

export interface StateUpdate {
  deviceId: string;
  /** When the device was seen; null records state without counting as a sighting (e.g. a server-side timeout). */
  at: string | null;
  ip?: string | null;
  ua?: string | null;
  /** Merged into `reported` (JSON merge patch). */
  reported?: Record<string, unknown>;
  /** Merged into `fetched`, keyed by file. */
  fetched?: Record<string, FetchedEntry>;
}

/** The filters `scan` answers in SQL (in id order, from the primary key): what a device list page needs. */
export interface DeviceScan {
  /** Ids after this one. */
  after?: string;
  /** Only these profiles (an adapter's). */
  profiles?: readonly string[];
  group?: string;
  status?: 'active' | 'pending';
  /** Lower-case text found in the lower-cased id or the last IP address, or `qMac` in the MAC. */
  q?: string;
  qMac?: string;
  /** Text the device's reported or fetched state must contain: a coarse pre-filter of a version filter (exact in JS). */
  stateHas?: string;
}

type ScanRow = DeviceRow & {
  s_id: string | null;
  last_seen: string | null;
  last_ip: string | null;
  last_ua: string | null;
  reported: string | null;
  fetched: string | null;
};

export class DeviceQueries {
  private readonly scanStmt;
  private readonly byId;
  private readonly byMac;
  private readonly all;
  private readonly someVars;
  private readonly upsertStmt;
  private readonly del;
  private readonly delState;
  private readonly delRollouts;
  private readonly stateById;
  private readonly stateAll;
  private readonly stateUpsert;
  private readonly statePatched;
  private readonly groupByName;
  private readonly groupAll;
  private readonly groupUpsert;
  private readonly usesArtifact;
  private readonly rehash;
  private readonly perProfile;
  private readonly pendingPerProfile;

  private readonly changed: () => void;

  /** @param changed called after every write that bumps the change generation */
  constructor(db: Db, changed: () => void) {
    this.changed = changed;
    this.byId = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE id = ?');
    this.byMac = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE mac = ?');
    this.all = db.prepare<[], DeviceRow>('SELECT * FROM devices ORDER BY id');
    this.someVars = db.prepare<[], DeviceRow>("SELECT * FROM devices WHERE vars <> '{}' ORDER BY id");
    // `d.id > @after` (with '' for the first page) walks the primary key from the cursor: a page reads
    // about as many rows as it returns when the filters match densely, never every device.
    this.scanStmt = db.prepare<Record<string, string | null>, ScanRow>(
      `SELECT d.*, s.device_id AS s_id, s.last_seen, s.last_ip, s.last_ua, s.reported, s.fetched
       FROM devices d LEFT JOIN device_state s ON s.device_id = d.id
       WHERE d.id > @after
         AND (@profiles IS NULL OR d.profile IN (SELECT value FROM json_each(@profiles)))
         AND (@grp IS NULL OR d.grp = @grp)
         AND (@status IS NULL OR d.status = @status)
         AND (@q IS NULL OR instr(lower(d.id), @q) > 0 OR (@qMac <> '' AND instr(d.mac, @qMac) > 0) OR instr(s.last_ip, @q) > 0)
         AND (@stateHas IS NULL OR instr(s.reported, @stateHas) > 0 OR instr(s.fetched, @stateHas) > 0)
       ORDER BY d.id`,
    );
    this.upsertStmt = db.prepare(
      `INSERT INTO devices (id, profile, model, mac, grp, password_hash, password_enc, vars, pins, status, created_at, updated_at)
       VALUES (@id, @profile, @model, @mac, @group, @passwordHash, @passwordEnc, @vars, @pins, @status, @createdAt, @updatedAt)
       ON CONFLICT (id) DO UPDATE SET profile = excluded.profile, model = excluded.model, mac = excluded.mac, grp = excluded.grp,
         password_hash = excluded.password_hash, password_enc = excluded.password_enc, vars = excluded.vars, pins = excluded.pins,
         status = excluded.status, updated_at = excluded.updated_at`,
    );
    this.del = db.prepare('DELETE FROM devices WHERE id = ?');
    this.delState = db.prepare('DELETE FROM device_state WHERE device_id = ?');
    this.delRollouts = db.prepare('DELETE FROM rollout_devices WHERE device_id = ?');
    this.stateById = db.prepare<[string], StateRow>('SELECT * FROM device_state WHERE device_id = ?');
    this.stateAll = db.prepare<[], StateRow>('SELECT * FROM device_state');
    this.stateUpsert = db.prepare(
      // Only for a device that exists: an update queued before its removal (here, or by the CLI in another
      // process) must not leave state a new device of the same id would inherit.
      `INSERT INTO device_state (device_id, last_seen, last_ip, last_ua, reported, fetched)
       SELECT @deviceId, @at, @ip, @ua, json_patch('{}', @reported), json_patch('{}', @fetched)
       WHERE EXISTS (SELECT 1 FROM devices WHERE id = @deviceId)
       ON CONFLICT (device_id) DO UPDATE SET last_seen = COALESCE(excluded.last_seen, last_seen),
         last_ip = COALESCE(@ip, last_ip), last_ua = COALESCE(@ua, last_ua),
         reported = json_patch(reported, @reported), fetched = json_patch(fetched, @fetched)`,
    );
    // What stateUpsert would make of the row, without writing it: the same json_patch, so a read through
    // queued updates and the row written later are the same.
    this.statePatched = db.prepare<[StateParams], StateRow>(
      `SELECT @deviceId AS device_id, COALESCE(@at, s.last_seen) AS last_seen,
         COALESCE(@ip, s.last_ip) AS last_ip, COALESCE(@ua, s.last_ua) AS last_ua,
         json_patch(COALESCE(s.reported, '{}'), @reported) AS reported, json_patch(COALESCE(s.fetched, '{}'), @fetched) AS fetched
       FROM (SELECT 1) LEFT JOIN device_state s ON s.device_id = @deviceId`,
    );
    this.groupByName = db.prepare<[string], GroupRow>('SELECT * FROM groups WHERE name = ?');
    this.groupAll = db.prepare<[], GroupRow>('SELECT * FROM groups ORDER BY name');
    this.groupUpsert = db.prepare(
      `INSERT INTO groups (name, vars, pins, release) VALUES (@name, @vars, @pins, @release)
       ON CONFLICT (name) DO UPDATE SET vars = excluded.vars, pins = excluded.pins, release = excluded.release`,
    );
    this.perProfile = db.prepare<[], { profile: string; count: number }>('SELECT profile, COUNT(*) AS count FROM devices GROUP BY profile');
    this.pendingPerProfile = db.prepare<[], { profile: string; count: number }>(
      "SELECT profile, COUNT(*) AS count FROM devices WHERE status = 'pending' GROUP BY profile",
    );
    this.rehash = db.prepare<[string, string, string]>('UPDATE devices SET password_hash = ? WHERE id = ? AND password_hash = ?');
    this.usesArtifact = db.prepare<[number, number], DeviceRow>(
      `SELECT d.* FROM devices d WHERE EXISTS (SELECT 1 FROM json_each(d.pins) WHERE value = ?)
       OR d.grp IN (SELECT g.name FROM groups g, json_each(g.pins) p WHERE p.value = ?)`,
    );
  }

  get(id: string): DeviceRecord | undefined {
    const r = this.byId.get(id);
    return r && toDevice(r);
  }

  getByMac(mac: string): DeviceRecord | undefined {
    const r = this.byMac.get(mac);
    return r && toDevice(r);
  }

  list(): DeviceRecord[] {
    return this.all.all().map(toDevice);
  }

  /** The devices with any variable (most of a big fleet has none): what a pass over variables needs to read. */
  withVars(): DeviceRecord[] {
    return this.someVars.all().map(toDevice);
  }

  /**
   * Devices (with their state) in id order matching `f`, read lazily: the caller stops when its page is full.
   * The connection is busy until the iteration ends, so run no other query between two items.
   */
  *scan(f: DeviceScan): Generator<{ device: DeviceRecord; state: DeviceStateRecord | undefined }> {
    const rows = this.scanStmt.iterate({
      after: f.after ?? '',
      profiles: f.profiles ? JSON.stringify(f.profiles) : null,
      grp: f.group ?? null,
      status: f.status ?? null,
      q: f.q ?? null,
      qMac: f.qMac ?? '',
      stateHas: f.stateHas ?? null,
    });
    for (const r of rows) {
      const state =
        r.s_id === null
          ? undefined
          : toState({
              device_id: r.s_id,
              last_seen: r.last_seen,
              last_ip: r.last_ip,
              last_ua: r.last_ua,
              reported: r.reported ?? '{}',
              fetched: r.fetched ?? '{}',
            });
      yield { device: toDevice(r), state };
    }
  }

  upsert(d: DeviceRecord): void {
    this.upsertStmt.run({ ...d, vars: JSON.stringify(d.vars), pins: JSON.stringify(d.pins) });
    this.changed();
  }

  countByProfile(): Array<{ profile: string; count: number }> {
    return this.perProfile.all();
  }

  /** Pending devices per profile (the partial index of migration 10). */
  countPendingByProfile(): Array<{ profile: string; count: number }> {
    return this.pendingPerProfile.all();
  }

  /** Replaces a password hash by an equivalent one (a new scheme) if it is still `was`; not a user change. */
  replacePasswordHash(id: string, was: string, next: string): boolean {
    const done = this.rehash.run(next, id, was).changes > 0;
    if (done) this.changed();
    return done;
  }

  /**
   * Removes a device with its state and its rollout rows: a device gone is no rollout failure (nor a
   * pending one), and a new device of the same id inherits no rollout target or failed mark.
   */
  remove(id: string): boolean {
    this.delState.run(id);
    this.delRollouts.run(id);
    const removed = this.del.run(id).changes > 0;
    this.changed();
    return removed;
  }

  /** The stored state, with `queued` (an update not written yet) applied as the write will apply it. */
  state(id: string, queued?: StateUpdate): DeviceStateRecord | undefined {
    const r = queued ? this.statePatched.get(stateParams(queued)) : this.stateById.get(id);
    return r && toState(r);
  }

  states(): DeviceStateRecord[] {
    return this.stateAll.all().map(toState);
  }

  updateState(u: StateUpdate): void {
    this.stateUpsert.run(stateParams(u));
  }

  group(name: string): GroupRecord | undefined {
    const r = this.groupByName.get(name);
    return r && toGroup(r);
  }

  groups(): GroupRecord[] {
    return this.groupAll.all().map(toGroup);
  }

  upsertGroup(g: GroupRecord): void {
    this.groupUpsert.run({ name: g.name, vars: JSON.stringify(g.vars), pins: JSON.stringify(g.pins), release: g.release ?? null });
    this.changed();
  }

  /** Devices that pin the artifact, directly or through their group. */
  pinnedTo(artifactId: number): DeviceRecord[] {
    return this.usesArtifact.all(artifactId, artifactId).map(toDevice);
  }
}
