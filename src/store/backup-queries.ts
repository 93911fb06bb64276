import type { Db } from './db.ts';
import type { StoredBackup } from './types.ts';

interface BackupRow {
  device_id: string;
  seq: number;
  name: string;
  slot: number | null;
  at: string;
  size: number;
  sha256: string;
  remote: string | null;
  file: string;
}

function toRecord(r: BackupRow): StoredBackup {
  return {
    deviceId: r.device_id,
    seq: r.seq,
    name: r.name,
    slot: r.slot,
    at: r.at,
    size: r.size,
    sha256: r.sha256,
    remote: r.remote,
    file: r.file,
  };
}

/** Device backups: the rows only; the bytes are files the backup store keeps beside them. */
export class BackupQueries {
  private readonly byDevice;
  private readonly one;
  private readonly newest;
  private readonly newestInSlot;
  private readonly newestUnslotted;
  private readonly ins;
  private readonly beyond;
  private readonly delOne;
  private readonly delDevice;
  private readonly files;

  constructor(db: Db) {
    this.byDevice = db.prepare<[string], BackupRow>('SELECT * FROM backups WHERE device_id = ? ORDER BY seq DESC');
    this.one = db.prepare<[string, number], BackupRow>('SELECT * FROM backups WHERE device_id = ? AND seq = ?');
    this.newest = db.prepare<[string], BackupRow>('SELECT * FROM backups WHERE device_id = ? ORDER BY seq DESC LIMIT 1');
    this.newestInSlot = db.prepare<[string, number], BackupRow>(
      'SELECT * FROM backups WHERE device_id = ? AND slot = ? ORDER BY seq DESC LIMIT 1',
    );
    this.newestUnslotted = db.prepare<[string], BackupRow>(
      'SELECT * FROM backups WHERE device_id = ? AND slot IS NULL ORDER BY seq DESC LIMIT 1',
    );
    this.ins = db.prepare(
      `INSERT INTO backups (device_id, seq, name, slot, at, size, sha256, remote, file)
       VALUES (@deviceId, @seq, @name, @slot, @at, @size, @sha256, @remote, @file)`,
    );
    this.beyond = db.prepare<[string, number], BackupRow>('SELECT * FROM backups WHERE device_id = ? ORDER BY seq DESC LIMIT -1 OFFSET ?');
    this.delOne = db.prepare('DELETE FROM backups WHERE device_id = ? AND seq = ?');
    this.delDevice = db.prepare('DELETE FROM backups WHERE device_id = ?');
    this.files = db.prepare<[], { device_id: string; file: string }>('SELECT device_id, file FROM backups');
  }

  /** Newest first. */
  list(deviceId: string): StoredBackup[] {
    return this.byDevice.all(deviceId).map(toRecord);
  }

  get(deviceId: string, seq: number): StoredBackup | undefined {
    const r = this.one.get(deviceId, seq);
    return r && toRecord(r);
  }

  /** The newest backup; with a slot (null: those without one), the newest of that slot. */
  latest(deviceId: string, slot?: number | null): StoredBackup | undefined {
    const r =
      slot === undefined
        ? this.newest.get(deviceId)
        : slot === null
          ? this.newestUnslotted.get(deviceId)
          : this.newestInSlot.get(deviceId, slot);
    return r && toRecord(r);
  }

  insert(b: StoredBackup): void {
    this.ins.run(b);
  }

  /** Deletes all but the newest `keep` backups of the device; returns the deleted rows (their files go next). */
  prune(deviceId: string, keep: number): StoredBackup[] {
    const old = this.beyond.all(deviceId, keep).map(toRecord);
    for (const b of old) this.delOne.run(deviceId, b.seq);
    return old;
  }

  removeDevice(deviceId: string): number {
    return this.delDevice.run(deviceId).changes;
  }

  /** Every file any row names, by device: what start-up keeps. */
  allFiles(): Array<{ deviceId: string; file: string }> {
    return this.files.all().map((r) => ({ deviceId: r.device_id, file: r.file }));
  }
}
