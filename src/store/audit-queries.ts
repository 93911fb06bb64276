import type { Db } from './db.ts';
import { parseJson } from './db.ts';

/** One admin change. `before`/`after` are what the audit service was given, secrets already masked. */
export interface AuditRecord {
  id: number;
  at: string;
  who: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export interface AuditQuery {
  /** ISO time: entries at or after it. */
  since?: string;
  who?: string;
  /** An action (`device.update`) or a family of them (`device`: every `device.*`). */
  action?: string;
  target?: string;
  /** Entries with a smaller id (paging back through the log). */
  beforeId?: number;
  limit?: number;
}

interface AuditRow {
  id: number;
  at: string;
  who: string;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    id: r.id,
    at: r.at,
    who: r.who,
    action: r.action,
    target: r.target,
    before: parseJson<unknown>(r.before, null, `audit.before of ${r.id}`),
    after: parseJson<unknown>(r.after, null, `audit.after of ${r.id}`),
  };
}

/** The audit log: appended to, read newest first. Entries are never updated. */
export class AuditQueries {
  private readonly ins;
  private readonly query;

  constructor(db: Db) {
    this.ins = db.prepare(
      'INSERT INTO audit (at, who, action, target, before, after) VALUES (@at, @who, @action, @target, @before, @after)',
    );
    // Each filter is off when its parameter is NULL: one statement for every combination.
    this.query = db.prepare<
      {
        since: string | null;
        who: string | null;
        action: string | null;
        family: string | null;
        target: string | null;
        beforeId: number | null;
        limit: number;
      },
      AuditRow
    >(
      `SELECT * FROM audit
       WHERE (@since IS NULL OR at >= @since)
         AND (@who IS NULL OR who = @who)
         AND (@action IS NULL OR action = @action OR substr(action, 1, length(@family)) = @family)
         AND (@target IS NULL OR target = @target)
         AND (@beforeId IS NULL OR id < @beforeId)
       ORDER BY id DESC LIMIT @limit`,
    );
  }

  insert(e: { at: string; who: string; action: string; target: string; before: string | null; after: string | null }): number {
    return Number(this.ins.run(e).lastInsertRowid);
  }

  /** Newest first. */
  list(q: AuditQuery = {}): AuditRecord[] {
    return this.query
      .all({
        since: q.since ?? null,
        who: q.who ?? null,
        action: q.action ?? null,
        family: q.action === undefined ? null : `${q.action}.`,
        target: q.target ?? null,
        beforeId: q.beforeId ?? null,
        limit: q.limit ?? 100,
      })
      .map(toRecord);
  }
}
