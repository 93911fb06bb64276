import type { Db } from './db.ts';
import { parseJson } from './db.ts';

export type SourceRunStatus = 'running' | 'ok' | 'failed' | 'interrupted';

/** What a finished run counts. */
export interface SourceRunTotals {
  added: number;
  unchanged: number;
  skipped: number;
  failed: number;
  unmapped: number;
  pruned: number;
  bytes: number;
}

/** One recorded run of an upstream source (migration 7); get() adds the per-file JSON the runner wrote. */
export interface SourceRunRecord extends SourceRunTotals {
  id: number;
  source: string;
  type: string;
  trigger: string;
  status: SourceRunStatus;
  pid: number;
  host: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

/** How a run ends: its outcome and totals. */
export interface SourceRunCounts extends SourceRunTotals {
  status: Exclude<SourceRunStatus, 'running'>;
  finishedAt: string;
  durationMs: number;
  error: string | null;
}

/** The columns, snake_case; the totals have the same names in both. */
interface Row extends SourceRunTotals {
  id: number;
  source: string;
  type: string;
  trigger: string;
  status: SourceRunStatus;
  pid: number;
  host: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
  detail: string;
}

function toRecord(r: Row): SourceRunRecord {
  return {
    id: r.id,
    source: r.source,
    type: r.type,
    trigger: r.trigger,
    status: r.status,
    pid: r.pid,
    host: r.host,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
    added: r.added,
    unchanged: r.unchanged,
    skipped: r.skipped,
    failed: r.failed,
    unmapped: r.unmapped,
    pruned: r.pruned,
    bytes: r.bytes,
    error: r.error,
  };
}

/** Runs kept per source; older ones are deleted as new ones finish. */
const KEEP_PER_SOURCE = 500;

export class SourceRunQueries {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Records a run as started, unless another run of the source is still going (`live` decides, from its pid
   * and host): then that run is returned and nothing is written. Runs whose process is gone become
   * `interrupted`. One immediate transaction, so two processes never both start.
   */
  begin(
    run: { source: string; type: string; trigger: string; pid: number; host: string; startedAt: string },
    live: (r: SourceRunRecord) => boolean,
  ): { id: number } | { running: SourceRunRecord } {
    return this.db
      .transaction(() => {
        const open = this.db
          .prepare<[string], Row>("SELECT * FROM source_runs WHERE source = ? AND status = 'running' ORDER BY id")
          .all(run.source);
        for (const r of open.map(toRecord)) {
          if (live(r)) return { running: r };
          this.db
            .prepare("UPDATE source_runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ?")
            .run(run.startedAt, `interrupted: the process running it (pid ${r.pid} on ${r.host}) ended before it finished`, r.id);
        }
        const info = this.db
          .prepare(
            `INSERT INTO source_runs (source, type, trigger, status, pid, host, started_at)
           VALUES (@source, @type, @trigger, 'running', @pid, @host, @startedAt)`,
          )
          .run(run);
        return { id: Number(info.lastInsertRowid) };
      })
      .immediate();
  }

  finish(id: number, c: SourceRunCounts, detail: unknown): void {
    const row = this.db.prepare<[number], { source: string }>('SELECT source FROM source_runs WHERE id = ?').get(id);
    this.db
      .prepare(
        `UPDATE source_runs SET status = @status, finished_at = @finishedAt, duration_ms = @durationMs, added = @added,
           unchanged = @unchanged, skipped = @skipped, failed = @failed, unmapped = @unmapped, pruned = @pruned,
           bytes = @bytes, error = @error, detail = @detail
         WHERE id = @id`,
      )
      .run({ ...c, id, detail: JSON.stringify(detail) });
    if (row)
      this.db
        .prepare(
          `DELETE FROM source_runs WHERE source = ? AND status != 'running' AND id < (
             SELECT id FROM source_runs WHERE source = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        )
        .run(row.source, row.source, KEEP_PER_SOURCE - 1);
  }

  /** Newest first; `before` pages back (a run id). */
  list(o: { source?: string; limit: number; before?: number }): SourceRunRecord[] {
    return this.db
      .prepare<{ source: string | null; before: number | null; limit: number }, Row>(
        `SELECT * FROM source_runs WHERE (@source IS NULL OR source = @source) AND (@before IS NULL OR id < @before)
         ORDER BY id DESC LIMIT @limit`,
      )
      .all({ source: o.source ?? null, before: o.before ?? null, limit: o.limit })
      .map(toRecord);
  }

  get(id: number): (SourceRunRecord & { detail: unknown }) | undefined {
    const r = this.db.prepare<[number], Row>('SELECT * FROM source_runs WHERE id = ?').get(id);
    return r && { ...toRecord(r), detail: parseJson<unknown>(r.detail, {}, `source_runs.detail of ${id}`) };
  }
}
