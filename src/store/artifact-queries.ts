import type { Db } from './db.ts';
import { parseJson } from './db.ts';
import type { ArtifactKind, ArtifactRecord, NewArtifact } from './types.ts';

interface ArtifactRow {
  id: number;
  kind: ArtifactKind;
  profile: string;
  models: string;
  role: string;
  device_id: string | null;
  version: string;
  serial: number | null;
  filename: string;
  size: number;
  md5: string;
  sha256: string;
  origin: string;
  added_at: string;
}

function toRecord(r: ArtifactRow): ArtifactRecord {
  return {
    id: r.id,
    kind: r.kind,
    profile: r.profile,
    models: parseJson<string[]>(r.models, [], `artifacts.models of ${r.id}`),
    role: r.role,
    deviceId: r.device_id,
    version: r.version,
    serial: r.serial,
    filename: r.filename,
    size: r.size,
    md5: r.md5,
    sha256: r.sha256,
    origin: r.origin,
    addedAt: r.added_at,
  };
}

export class ArtifactQueries {
  private readonly byId;
  private readonly byProfile;
  private readonly all;
  private readonly ins;
  private readonly del;
  private readonly shaUse;

  private readonly changed: () => void;

  /** @param changed called after every write that bumps the change generation */
  constructor(db: Db, changed: () => void) {
    this.changed = changed;
    this.byId = db.prepare<[number], ArtifactRow>('SELECT * FROM artifacts WHERE id = ?');
    this.byProfile = db.prepare<[string], ArtifactRow>('SELECT * FROM artifacts WHERE profile = ? ORDER BY id');
    this.all = db.prepare<[], ArtifactRow>('SELECT * FROM artifacts ORDER BY id');
    this.ins = db.prepare(
      `INSERT INTO artifacts (kind, profile, models, role, device_id, version, serial, filename, size, md5, sha256, origin, added_at)
       VALUES (@kind, @profile, @models, @role, @deviceId, @version, @serial, @filename, @size, @md5, @sha256, @origin, @addedAt)`,
    );
    this.del = db.prepare('DELETE FROM artifacts WHERE id = ?');
    this.shaUse = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM artifacts WHERE sha256 = ?');
  }

  get(id: number): ArtifactRecord | undefined {
    const r = this.byId.get(id);
    return r && toRecord(r);
  }

  list(profile?: string): ArtifactRecord[] {
    return (profile ? this.byProfile.all(profile) : this.all.all()).map(toRecord);
  }

  insert(a: NewArtifact, addedAt: string): ArtifactRecord {
    const info = this.ins.run({ ...a, models: JSON.stringify(a.models), addedAt });
    this.changed();
    return this.get(Number(info.lastInsertRowid))!;
  }

  remove(id: number): boolean {
    const removed = this.del.run(id).changes > 0;
    this.changed();
    return removed;
  }

  /** How many artifacts share these bytes: the blob is removed only when none do. */
  countBySha(sha256: string): number {
    return this.shaUse.get(sha256)!.n;
  }
}
