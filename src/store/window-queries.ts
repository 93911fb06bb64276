import type { Db } from './db.ts';
import { parseJson } from './db.ts';

/** What a device holds under one key: `slot:<slot>` (an artifact) or `file:<name>` (rendered bytes). */
export interface HeldRecord {
  deviceId: string;
  key: string;
  artifactId: number | null;
  sha256: string;
  /** A rendered file's bytes sealed with the keyring (WindowGate opens them); null for a slot, or dropped. */
  bytes: Buffer | null;
  firstAt: string;
  at: string;
}

interface HeldRow {
  device_id: string;
  key: string;
  artifact_id: number | null;
  sha256: string;
  bytes: Buffer | null;
  first_at: string;
  at: string;
}

const toHeld = (r: HeldRow): HeldRecord => ({
  deviceId: r.device_id,
  key: r.key,
  artifactId: r.artifact_id,
  sha256: r.sha256,
  bytes: r.bytes,
  firstAt: r.first_at,
  at: r.at,
});

/** Maintenance windows: what devices hold (src/windows/gate.ts) and the windows groups override. */
export class WindowQueries {
  private readonly getStmt;
  private readonly putStmt;
  private readonly listStmt;
  private readonly firstStmt;
  private readonly groupGet;
  private readonly groupPut;
  private readonly groupDel;
  private readonly changed: () => void;

  constructor(db: Db, changed: () => void) {
    this.changed = changed;
    this.getStmt = db.prepare<[string, string], HeldRow>('SELECT * FROM window_held WHERE device_id = ? AND key = ?');
    // first_at stays what it was: it dates the device's first contact, not its latest.
    this.putStmt = db.prepare(
      `INSERT INTO window_held (device_id, key, artifact_id, sha256, bytes, first_at, at)
       VALUES (@deviceId, @key, @artifactId, @sha256, @bytes, @at, @at)
       ON CONFLICT (device_id, key) DO UPDATE SET artifact_id = excluded.artifact_id, sha256 = excluded.sha256,
         bytes = excluded.bytes, at = excluded.at`,
    );
    this.listStmt = db.prepare<[string], HeldRow>('SELECT * FROM window_held WHERE device_id = ? ORDER BY key');
    this.firstStmt = db.prepare<[string], { first: string | null }>('SELECT MIN(first_at) AS first FROM window_held WHERE device_id = ?');
    this.groupGet = db.prepare<[string], { window: string }>('SELECT window FROM group_windows WHERE name = ?');
    this.groupPut = db.prepare(
      'INSERT INTO group_windows (name, window) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET window = excluded.window',
    );
    this.groupDel = db.prepare('DELETE FROM group_windows WHERE name = ?');
  }

  held(deviceId: string, key: string): HeldRecord | undefined {
    const r = this.getStmt.get(deviceId, key);
    return r && toHeld(r);
  }

  heldAll(deviceId: string): HeldRecord[] {
    return this.listStmt.all(deviceId).map(toHeld);
  }

  putHeld(h: Omit<HeldRecord, 'firstAt'>): void {
    this.putStmt.run({ ...h });
  }

  /** When the device first held anything; undefined when it holds nothing (factory-new to APS). */
  firstHeldAt(deviceId: string): string | undefined {
    return this.firstStmt.get(deviceId)?.first ?? undefined;
  }

  groupWindow(name: string): unknown {
    const r = this.groupGet.get(name);
    return r ? parseJson<unknown>(r.window, undefined, `group_windows.window of ${name}`) : undefined;
  }

  setGroupWindow(name: string, window: unknown): void {
    if (window === undefined || window === null) this.groupDel.run(name);
    else this.groupPut.run(name, JSON.stringify(window));
    this.changed();
  }
}
