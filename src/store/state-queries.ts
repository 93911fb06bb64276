import type { Db } from './db.ts';
import { isBusyError, parseJson, reportBackgroundWriteError, withoutWaiting } from './db.ts';
import { KvCache } from './kv-cache.ts';
import type { EventQuery, EventRecord, FleetDeviceRow, FleetRow, NewEvent, Pins, RevisionRecord } from './types.ts';

/** The devices whose firmware target the fleet view may compute once per (profile, model, group): see fleetCounts. */
export interface FleetShared {
  /** Devices with something of their own (rollout entries, artifacts of their own). */
  ids: readonly string[];
  /** Groups that pin artifacts. */
  pinnedGroups: readonly string[];
}

export interface FleetCountRow {
  profile: string;
  model: string | null;
  group: string | null;
  status: 'active' | 'pending';
  version: string | null;
  devices: number;
  /** The smallest id among them (orders the profiles as a walk over the ids would). */
  firstId: string;
}

// The version a device runs (as it reports it, else the firmware it last fetched) and where that came from.
const VERSION = `COALESCE(json_extract(s.reported, '$.firmware'), json_extract(s.fetched, '$.firmware.version'))`;
const BASIS = `CASE WHEN json_extract(s.reported, '$.firmware') IS NOT NULL THEN 'reported'
  WHEN json_extract(s.fetched, '$.firmware.version') IS NOT NULL THEN 'fetched' END`;
const SHARED = `d.pins = '{}' AND (d.grp IS NULL OR d.grp NOT IN (SELECT value FROM json_each(@pinnedGroups)))
  AND d.id NOT IN (SELECT value FROM json_each(@ids))`;
const sharedArgs = (s: FleetShared): Record<string, string> => ({
  ids: JSON.stringify(s.ids),
  pinnedGroups: JSON.stringify(s.pinnedGroups),
});

interface EventRow {
  id: number;
  at: string;
  device_id: string | null;
  adapter: string;
  file: string;
  artifact_id: number | null;
  revision: number | null;
  bytes: number;
  status: number;
  ip: string | null;
  ua: string | null;
  detail: string | null;
  fault_code: string | null;
  fault_message: string | null;
}

function toEvent(r: EventRow): EventRecord {
  return {
    id: r.id,
    at: r.at,
    deviceId: r.device_id,
    adapter: r.adapter,
    file: r.file,
    artifactId: r.artifact_id,
    revision: r.revision,
    bytes: r.bytes,
    status: r.status,
    ip: r.ip,
    ua: r.ua,
    detail: r.detail,
    fault: r.fault_code === null ? null : { code: r.fault_code, message: r.fault_message ?? '' },
  };
}

/** Past this many kv writes waiting for their commit, the write that adds one commits them all at once. */
const MAX_KV_PENDING = 1000;
/**
 * kv writes wait this long for their commit, so one commit (two pragmas and a transaction) carries the
 * writes of many requests; other processes see them that much later.
 */
const KV_FLUSH_MS = 10;
/** A commit refused by another process's write lock is retried after this. */
const KV_RETRY_MS = 20;
/** After a commit error other than a busy lock (disk full, I/O): tried again, less often. */
const KV_ERROR_RETRY_MS = 1000;
/**
 * A kv write waiting for the group commit; `base`: the committed value it was written over (null: no live row),
 * as live at `at`, when it was first written.
 */
interface PendingKv {
  ns: string;
  key: string;
  row: { value: string; expires: number | null } | null;
  base: string | null;
  at: number;
}

/** A kv row's value while it lives at `now`; null for no row or an expired one. */
function liveValue(r: { value: string; expires_ms: number | null } | undefined, now: number): string | null {
  return r && (r.expires_ms === null || r.expires_ms > now) ? r.value : null;
}

/** Connections with kv writes not yet committed, committed when the process exits (a CLI that exits at once). */
const pendingKv = new Set<StateQueries>();
process.once('exit', () => {
  for (const q of pendingKv) {
    try {
      q.flushKv({ wait: true });
    } catch {
      // Exiting: nothing left to retry with; the store's close (which reports it) normally ran first.
    }
  }
});

/** Revisions, events, adapter key-value state and the change generation. */
export class StateQueries {
  private readonly gen;
  private readonly revGet;
  private readonly revPut;
  private readonly evIns;
  private readonly kvGet;
  private readonly kvPut;
  private readonly kvDel;
  private readonly kvList;
  private readonly kvListAll;
  private readonly kvPurge;
  private readonly fleetStmt;
  private readonly prune;
  private readonly lastAll;
  private readonly lastOne;
  private readonly db: Db;
  private genMemo: number | undefined;
  private readonly changesStmt;
  private seen: { tc: number; dv: number } | undefined;
  private seenFresh = false;
  private readonly kvCache = new KvCache();
  /** kv writes not yet committed (`ns\0key` → the row, null for a delete): see kvSet. */
  private readonly kvPending = new Map<string, PendingKv>();
  private kvFlushTimer: NodeJS.Timeout | undefined;
  /** A commit failed for a reason other than a busy lock and none succeeded since: the log was told once. */
  private kvFailing = false;
  private kvFailures = 0;
  /** Pending rows a transaction wrote over: dropped when it commits, given back when it rolls back. */
  private readonly kvDisplaced = new Map<string, PendingKv>();
  private readonly kvCommit;

  constructor(db: Db) {
    this.db = db;
    this.gen = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'generation'");
    this.revGet = db.prepare<[string, string], { device_id: string; file: string; sha256: string; serial: number; modified_ms: number }>(
      'SELECT * FROM revisions WHERE device_id = ? AND file = ?',
    );
    this.revPut = db.prepare(
      `INSERT INTO revisions (device_id, file, sha256, serial, modified_ms) VALUES (@deviceId, @file, @sha256, @serial, @modifiedMs)
       ON CONFLICT (device_id, file) DO UPDATE SET sha256 = excluded.sha256, serial = excluded.serial, modified_ms = excluded.modified_ms`,
    );
    this.evIns = db.prepare(
      `INSERT INTO events (at, device_id, adapter, file, artifact_id, revision, bytes, status, ip, ua, detail, fault_code, fault_message)
       VALUES (@at, @deviceId, @adapter, @file, @artifactId, @revision, @bytes, @status, @ip, @ua, @detail, @faultCode, @faultMessage)`,
    );
    // Rows are read with their expiry and judged in JS, so the cache (kv-cache.ts) can judge them again later.
    this.kvGet = db.prepare<[string, string], { value: string; expires_ms: number | null }>(
      'SELECT value, expires_ms FROM kv WHERE ns = ? AND key = ?',
    );
    // Once per event-loop turn: whether another connection committed (data_version) and whether this one
    // changed anything (total_changes, triggers included: the generation triggers).
    this.changesStmt = db.prepare<[], { tc: number; dv: number }>(
      'SELECT total_changes() AS tc, data_version AS dv FROM pragma_data_version',
    );
    // Made once: a transaction wrapper per flush showed in the profile. (A PRAGMA cannot be prepared once:
    // SQLite runs `PRAGMA busy_timeout = n` when it is prepared, not when it is run again.)
    // A pending row carries the value this connection believed committed when it was first written (`base`):
    // if another process changed the key since (`aps access unlock` clearing a lock), the other process's commit
    // wins and this older write is dropped, never written over it. Both are judged live at that time, so a
    // purge of a row already expired then (the hourly housekeeping) is no change.
    this.kvCommit = db.transaction((ops: PendingKv[]): PendingKv[] => {
      const lost: PendingKv[] = [];
      for (const op of ops) {
        if (liveValue(this.kvGet.get(op.ns, op.key), op.at) !== op.base) {
          lost.push(op);
          continue;
        }
        if (op.row) this.kvPut.run(op.ns, op.key, op.row.value, op.row.expires);
        else this.kvDel.run(op.ns, op.key);
      }
      return lost;
    });

    this.kvPut = db.prepare(
      `INSERT INTO kv (ns, key, value, expires_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms`,
    );
    this.kvDel = db.prepare('DELETE FROM kv WHERE ns = ? AND key = ?');
    // A key range, not LIKE: LIKE is case-insensitive and so cannot use the (ns, key) primary key; every
    // management session listing one device's downloads scanned every session row of the namespace.
    this.kvList = db.prepare<[string, string, string], { key: string; value: string; expires_ms: number | null }>(
      'SELECT key, value, expires_ms FROM kv WHERE ns = ? AND key >= ? AND key < ? ORDER BY key',
    );
    this.kvListAll = db.prepare<[string], { key: string; value: string; expires_ms: number | null }>(
      'SELECT key, value, expires_ms FROM kv WHERE ns = ? ORDER BY key',
    );
    this.kvPurge = db.prepare('DELETE FROM kv WHERE expires_ms IS NOT NULL AND expires_ms <= ?');
    this.prune = db.prepare('DELETE FROM events WHERE at < ?');
    // Both are one probe of the events_device (device_id, id) index per device: the cost follows the number
    // of devices, not the size of the event log.
    this.lastAll = db.prepare<[], EventRow>(
      `SELECT e.* FROM devices d JOIN events e ON e.id = (SELECT id FROM events WHERE device_id = d.id ORDER BY id DESC LIMIT 1)`,
    );
    this.lastOne = db.prepare<[string], EventRow>('SELECT * FROM events WHERE device_id = ? ORDER BY id DESC LIMIT 1');
    // The version a device runs as it says so itself (User-Agent, Inform); for a protocol where the device
    // never says (VOP), the version it last downloaded completely, marked as such: a download is not an
    // install (the device may have refused it on its MD5).
    this.fleetStmt = db.prepare<
      [],
      { profile: string; version: string | null; basis: string | null; devices: number; last_seen: string | null }
    >(
      `SELECT profile, version, basis, COUNT(*) AS devices, MAX(last_seen) AS last_seen FROM (
         SELECT d.profile AS profile, s.last_seen AS last_seen,
           COALESCE(json_extract(s.reported, '$.firmware'), json_extract(s.fetched, '$.firmware.version')) AS version,
           CASE WHEN json_extract(s.reported, '$.firmware') IS NOT NULL THEN 'reported'
                WHEN json_extract(s.fetched, '$.firmware.version') IS NOT NULL THEN 'fetched' END AS basis
         FROM devices d LEFT JOIN device_state s ON s.device_id = d.id)
       GROUP BY profile, version, basis ORDER BY profile, version`,
    );
  }

  /**
   * The change generation. Read again only when something may have changed it: this connection wrote (its
   * total_changes moved; such writes also call invalidateGeneration()) or another one committed (data_version
   * moved), checked at most once per event-loop turn; writes of others show next turn.
   */
  generation(): number {
    this.checkChanges();
    if (this.genMemo === undefined) this.genMemo = Number(this.gen.get()!.value);
    return this.genMemo;
  }

  /** The per-turn check behind generation() and the kv cache: one statement, at most once per turn. */
  private checkChanges(): void {
    if (this.seenFresh) return;
    const now = this.changesStmt.get()!;
    if (now.dv !== this.seen?.dv) {
      this.kvCache.clear();
      this.genMemo = undefined;
    } else if (now.tc !== this.seen.tc) this.genMemo = undefined;
    this.seen = now;
    this.seenFresh = true;
    setImmediate(() => (this.seenFresh = false));
  }

  invalidateGeneration(): void {
    this.genMemo = undefined;
  }

  revision(deviceId: string, file: string): RevisionRecord | undefined {
    const r = this.revGet.get(deviceId, file);
    return r && { deviceId: r.device_id, file: r.file, sha256: r.sha256, serial: r.serial, modifiedMs: r.modified_ms };
  }

  putRevision(r: RevisionRecord): void {
    this.revPut.run(r);
  }

  insertEvents(events: readonly NewEvent[]): void {
    for (const { fault, ...e } of events) this.evIns.run({ ...e, faultCode: fault?.code ?? null, faultMessage: fault?.message ?? null });
  }

  events(q: EventQuery): EventRecord[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.deviceId) {
      where.push('device_id = ?');
      args.push(q.deviceId);
    }
    if (q.adapter) {
      where.push('adapter = ?');
      args.push(q.adapter);
    }
    if (q.since) {
      where.push('at >= ?');
      args.push(q.since);
    }
    if (q.afterId !== undefined && Number.isSafeInteger(q.afterId) && q.afterId > 0) {
      where.push('id > ?');
      args.push(q.afterId);
    }
    if (q.beforeId !== undefined && Number.isSafeInteger(q.beforeId)) {
      where.push('id < ?');
      args.push(q.beforeId);
    }
    // Query strings and CLI flags arrive as numbers that may be NaN or fractions: SQL gets an integer.
    // 1001: a page of 1000 reads one more row to know whether a next page exists.
    const limit = Number.isFinite(q.limit) ? Math.min(Math.max(Math.trunc(q.limit!), 1), 1001) : 100;
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`;
    return this.db
      .prepare<Array<string | number>, EventRow>(sql)
      .all(...args)
      .map(toEvent);
  }

  /** The newest event of each known device, by device id (what its last request came to: served, refused, faulted). */
  lastEvents(): Map<string, EventRecord> {
    const rows = this.lastAll.all();
    return new Map(rows.map((r) => [r.device_id!, toEvent(r)]));
  }

  /** The newest event of one device. */
  lastEvent(deviceId: string): EventRecord | undefined {
    const r = this.lastOne.get(deviceId);
    return r && toEvent(r);
  }

  /** Deletes events recorded before the ISO time; returns how many. */
  pruneEvents(beforeIso: string): number {
    return this.prune.run(beforeIso).changes;
  }

  /**
   * The kv cache, valid while no other connection committed (PRAGMA data_version moves only for those):
   * checked at most once per event-loop turn, like generation(); inside a transaction it is not used.
   */
  private kvCached(): KvCache | undefined {
    if (this.db.inTransaction) return undefined;
    this.checkChanges();
    return this.kvCache;
  }

  kvGetValue(ns: string, key: string, nowMs: number): string | undefined {
    const k = `${ns}\0${key}`;
    const pending = this.kvPending.get(k);
    if (pending !== undefined)
      return pending.row && (pending.row.expires === null || pending.row.expires > nowMs) ? pending.row.value : undefined;
    const cache = this.kvCached();
    const hit = cache?.get(ns, key, nowMs);
    if (hit !== undefined) return hit ?? undefined;
    const r = this.kvGet.get(ns, key);
    cache?.putRow(ns, key, r ? { value: r.value, expires: r.expires_ms } : null);
    return liveValue(r, nowMs) ?? undefined;
  }

  /** A key the caller just made up (a fresh random nonce): remembered as "no row" until another connection commits. */
  kvKnownAbsent(ns: string, key: string): void {
    if (this.kvPending.has(`${ns}\0${key}`)) return;
    const cache = this.kvCached();
    // Never over a row this connection knows of (the caller's promise is only that the key is new).
    if (cache && cache.get(ns, key, Number.MIN_SAFE_INTEGER) === undefined) cache.putRow(ns, key, null);
  }

  /**
   * Group commit (issue 15: three kv writes per management session, each its own SQLite commit): outside a
   * transaction a write is visible at once to this connection (kvGetValue, kvEntries read the pending rows
   * first) and committed with the others of the next KV_FLUSH_MS by flushKv(), which never waits for
   * another process's write lock (a CLI holding it): it retries shortly instead. Other processes see the row
   * after that commit; a crash loses at most the writes of the last KV_FLUSH_MS. Inside a transaction the write is
   * part of it, as before.
   */
  kvSet(ns: string, key: string, value: string, expiresMs: number | null): void {
    this.kvWrite(ns, key, { value, expires: expiresMs });
  }

  kvDelete(ns: string, key: string): void {
    this.kvWrite(ns, key, null);
  }

  /**
   * A write committed before this returns (the Digest nonce-count, which another node must see at once), without
   * waiting for another process's write lock: while one holds it, the write takes the group commit's way.
   */
  kvSetNow(ns: string, key: string, value: string, expiresMs: number | null): void {
    if (this.db.inTransaction) return this.kvWrite(ns, key, { value, expires: expiresMs });
    const row = { value, expires: expiresMs };
    try {
      withoutWaiting(this.db, () => this.kvPut.run(ns, key, value, expiresMs));
    } catch (e) {
      if (!isBusyError(e)) throw e;
      return this.kvWrite(ns, key, row);
    }
    this.kvPending.delete(`${ns}\0${key}`); // superseded: a flush must not write an older value over it
    this.kvCached()?.wrote(ns, key, row);
  }

  private kvWrite(ns: string, key: string, row: { value: string; expires: number | null } | null): void {
    const k = `${ns}\0${key}`;
    if (this.db.inTransaction) {
      // The pending row this supersedes is set aside: it is dropped if the transaction commits, and given back
      // if it rolls back (kvTransactionEnded), so a rollback never loses a write made before the transaction.
      const displaced = this.kvPending.get(k);
      if (displaced) {
        this.kvPending.delete(k);
        if (!this.kvDisplaced.has(k)) this.kvDisplaced.set(k, displaced);
      }
      if (row) this.kvPut.run(ns, key, row.value, row.expires);
      else this.kvDel.run(ns, key);
      this.kvCache.forget(ns, key);
      return;
    }
    const cache = this.kvCached();
    // The committed value this write goes over: the cache's (null: it knows there is no live row), else one
    // primary-key read (most writes follow a read of the same key; a fresh key was announced with kvKnownAbsent).
    const pending = this.kvPending.get(k);
    const at = pending?.at ?? Date.now();
    const cached = pending === undefined ? cache?.get(ns, key, at) : undefined;
    const base = pending !== undefined ? pending.base : cached !== undefined ? cached : liveValue(this.kvGet.get(ns, key), at);
    this.kvPending.set(k, { ns, key, row, base, at });
    cache?.wrote(ns, key, row);
    if (this.kvPending.size >= MAX_KV_PENDING) return this.flushKv();
    this.kvFlushTimer ??= setTimeout(() => this.flushKv(), KV_FLUSH_MS);
    pendingKv.add(this);
  }

  /** Commits the pending kv writes in one transaction; called on its own KV_FLUSH_MS after a write, and before the store closes. */
  flushKv(o: { wait?: boolean } = {}): void {
    if (this.kvFlushTimer !== undefined) {
      clearTimeout(this.kvFlushTimer);
      this.kvFlushTimer = undefined;
    }
    if (this.kvPending.size === 0 || !this.db.open) return;
    const ops = [...this.kvPending.values()];
    let lost: PendingKv[];
    try {
      lost = o.wait ? this.kvCommit(ops) : withoutWaiting(this.db, () => this.kvCommit(ops));
    } catch (e) {
      // Kept pending (and still read from memory) and tried again: a busy lock frees soon; another error (disk
      // full) is reported once per failing spell (the server's log), and retried less often, but never thrown
      // into whichever request writes next.
      if (o.wait) throw e; // shutdown and explicit flushes say what could not be written
      if (!isBusyError(e)) {
        if (!this.kvFailing) reportBackgroundWriteError('kv rows', e);
        this.kvFailing = true;
        this.kvFailures++;
      }
      this.kvFlushTimer = setTimeout(() => this.flushKv(), isBusyError(e) ? KV_RETRY_MS : KV_ERROR_RETRY_MS);
      return;
    }
    this.kvPending.clear();
    this.kvFailing = false;
    pendingKv.delete(this);
    for (const op of lost) this.kvCache.forget(op.ns, op.key); // read again: the other process's row
  }

  /**
   * After the outermost transaction (Store.transaction): a commit supersedes the pending rows it wrote over;
   * a rollback gives them back to the group commit.
   */
  kvTransactionEnded(committed: boolean): void {
    if (this.kvDisplaced.size === 0) return;
    if (!committed) {
      for (const [k, row] of this.kvDisplaced) {
        if (this.kvPending.has(k)) continue;
        this.kvPending.set(k, row);
        this.kvCached()?.wrote(row.ns, row.key, row.row);
      }
      this.kvFlushTimer ??= setTimeout(() => this.flushKv(), KV_FLUSH_MS);
      pendingKv.add(this);
    }
    this.kvDisplaced.clear();
  }

  /** How many kv writes wait for their commit (what a failed shutdown commit loses). */
  kvPendingCount(): number {
    return this.kvPending.size;
  }

  /** Group commits that failed for a reason other than a busy lock since start (their writes stay pending). */
  kvWriteFailures(): number {
    return this.kvFailures;
  }

  kvEntries(ns: string, prefix: string, nowMs: number): Array<{ key: string; value: string }> {
    const cache = this.kvCached();
    const hit = cache?.list(ns, prefix, nowMs);
    if (hit) return hit;
    const last = prefix.charCodeAt(prefix.length - 1);
    const rows =
      prefix === '' || last === 0xffff
        ? this.kvListAll.all(ns).filter((e) => e.key.startsWith(prefix))
        : // Every key starting with `prefix` sorts at or after it and before the prefix with its last unit raised.
          this.kvList.all(ns, prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1));
    let all = rows.map((r) => ({ key: r.key, value: r.value, expires: r.expires_ms }));
    // The pending writes under the prefix replace what SQLite has (a listing is cached with them: a later
    // write under the prefix drops it, a flush changes nothing it holds).
    const mine = [...this.kvPending.values()].filter((p) => p.ns === ns && p.key.startsWith(prefix));
    if (mine.length > 0) {
      const gone = new Set(mine.map((p) => p.key));
      all = all.filter((r) => !gone.has(r.key));
      for (const p of mine) if (p.row) all.push({ key: p.key, ...p.row });
      all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    cache?.putList(ns, prefix, all);
    return all.filter((r) => r.expires === null || r.expires > nowMs).map((r) => ({ key: r.key, value: r.value }));
  }

  kvPurgeExpired(nowMs: number): number {
    return this.kvPurge.run(nowMs).changes;
  }

  /**
   * Devices in id order with their firmware version (reported, else fetched), for the fleet view: `which`
   * picks them: the ones not `shared` (see fleetCounts), a page of one status from a cursor, or all.
   */
  fleetDevices(which: { notShared?: FleetShared; status?: 'active' | 'pending'; after?: string; limit?: number } = {}): FleetDeviceRow[] {
    const where: string[] = [];
    const args: Record<string, string | number> = {};
    if (which.notShared) {
      where.push(`NOT (${SHARED})`);
      Object.assign(args, sharedArgs(which.notShared));
    }
    if (which.status) {
      where.push('d.status = @status');
      args.status = which.status;
    }
    if (which.after !== undefined) {
      where.push('d.id > @after');
      args.after = which.after;
    }
    const sql = `SELECT d.id, d.profile, d.model, d.grp, d.pins, d.status, s.last_seen, ${VERSION} AS version, ${BASIS} AS basis
       FROM devices d LEFT JOIN device_state s ON s.device_id = d.id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id ${which.limit ? `LIMIT ${Math.trunc(which.limit)}` : ''}`;
    type Row = {
      id: string;
      profile: string;
      model: string | null;
      grp: string | null;
      pins: string;
      status: 'active' | 'pending';
      last_seen: string | null;
      version: string | number | null;
      basis: string | null;
    };
    return this.db
      .prepare<Record<string, string | number>, Row>(sql)
      .all(args)
      .map((r) => ({
        id: r.id,
        profile: r.profile,
        model: r.model,
        group: r.grp,
        // Most devices pin nothing: no JSON parse for those.
        pins: r.pins === '{}' ? {} : parseJson<Pins>(r.pins, {}, `devices.pins of ${r.id}`),
        status: r.status,
        version: r.version === null ? null : String(r.version),
        basis: r.basis as FleetDeviceRow['basis'],
        lastSeen: r.last_seen,
      }));
  }

  /**
   * How many devices share each (profile, model, group, status, version), over the devices whose firmware
   * target depends on nothing else: no pins of their own, a group without pins, not in `shared.ids` (rollout
   * entries, artifacts of their own). 100,000 devices come back as a few rows, counted in SQL.
   */
  fleetCounts(shared: FleetShared): FleetCountRow[] {
    const sql = `SELECT d.profile AS profile, d.model AS model, d.grp AS grp, d.status AS status, ${VERSION} AS version,
         COUNT(*) AS devices, MIN(d.id) AS first_id
       FROM devices d LEFT JOIN device_state s ON s.device_id = d.id
       WHERE ${SHARED} GROUP BY 1, 2, 3, 4, 5`;
    type Row = Omit<FleetCountRow, 'group' | 'firstId' | 'version'> & {
      grp: string | null;
      first_id: string;
      version: string | number | null;
    };
    return this.db
      .prepare<Record<string, string>, Row>(sql)
      .all(sharedArgs(shared))
      .map((r) => ({
        profile: r.profile,
        model: r.model,
        group: r.grp,
        status: r.status,
        version: r.version === null ? null : String(r.version),
        devices: r.devices,
        firstId: r.first_id,
      }));
  }

  fleet(): FleetRow[] {
    return this.fleetStmt.all().map((r) => ({
      profile: r.profile,
      version: r.version ?? '',
      basis: r.basis as FleetRow['basis'],
      devices: r.devices,
      lastSeen: r.last_seen,
    }));
  }
}
