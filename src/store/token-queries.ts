import type { Db } from './db.ts';

export type AdminScope = 'read' | 'full';

/** A named admin token as stored: its keyed hash only, never the token. */
export interface AdminTokenRecord {
  name: string;
  scope: AdminScope;
  createdAt: string;
  /** Who created it (an audit `who`: a token name or cli:<os user>). */
  createdBy: string;
  lastUsedAt: string | null;
}

interface TokenRow {
  name: string;
  scope: AdminScope;
  hash: string;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
}

function toRecord(r: TokenRow): AdminTokenRecord {
  return { name: r.name, scope: r.scope, createdAt: r.created_at, createdBy: r.created_by, lastUsedAt: r.last_used_at };
}

/** Admin tokens: looked up by hash on every admin request, by name for the commands. */
export class TokenQueries {
  private readonly byHash;
  private readonly byName;
  private readonly all;
  private readonly ins;
  private readonly del;
  private readonly used;

  constructor(db: Db) {
    this.byHash = db.prepare<[string], TokenRow>('SELECT * FROM admin_tokens WHERE hash = ?');
    this.byName = db.prepare<[string], TokenRow>('SELECT * FROM admin_tokens WHERE name = ?');
    this.all = db.prepare<[], TokenRow>('SELECT * FROM admin_tokens ORDER BY name');
    this.ins = db.prepare(
      'INSERT INTO admin_tokens (name, scope, hash, created_at, created_by) VALUES (@name, @scope, @hash, @createdAt, @createdBy)',
    );
    this.del = db.prepare('DELETE FROM admin_tokens WHERE name = ?');
    this.used = db.prepare('UPDATE admin_tokens SET last_used_at = ? WHERE name = ?');
  }

  findByHash(hash: string): AdminTokenRecord | undefined {
    const r = this.byHash.get(hash);
    return r && toRecord(r);
  }

  get(name: string): AdminTokenRecord | undefined {
    const r = this.byName.get(name);
    return r && toRecord(r);
  }

  list(): AdminTokenRecord[] {
    return this.all.all().map(toRecord);
  }

  insert(t: { name: string; scope: AdminScope; hash: string; createdAt: string; createdBy: string }): void {
    this.ins.run(t);
  }

  /** Returns whether a token of that name existed. */
  remove(name: string): boolean {
    return this.del.run(name).changes > 0;
  }

  touch(name: string, at: string): void {
    this.used.run(at, name);
  }
}
