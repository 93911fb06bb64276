import { EventEmitter } from 'node:events';
import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.ts';
import type { SourceRunResult } from './result.ts';
import type { SourceConfig } from './source-config.ts';

/** Runs a source; null when it did not start (a run of it started elsewhere, by `aps sync` or the API, is going). */
export type RunSource = (src: SourceConfig, signal: AbortSignal) => Promise<SourceRunResult | null>;

export interface SourceSchedulerEvents {
  /** A scheduled run finished (successfully or not). */
  run: [SourceRunResult];
  /** A tick came while another run of the same source was still going; nothing was started. */
  skipped: [{ source: string }];
}

export interface SourceScheduler {
  readonly events: EventEmitter<SourceSchedulerEvents>;
  /** Names of the sources that have a schedule. */
  readonly scheduled: readonly string[];
  /** Stops the schedules, cancels runs in flight and waits for them to wind down. */
  stop(): Promise<void>;
}

/**
 * A node-cron task per source with a `schedule`. A run never overlaps the previous run of the same source:
 * a tick that finds one in flight is skipped (and reported), so a slow upstream cannot pile up connections.
 */
export function scheduleSources(sources: readonly SourceConfig[], run: RunSource, log: Logger): SourceScheduler {
  const events = new EventEmitter<SourceSchedulerEvents>();
  const running = new Map<string, Promise<void>>();
  const abort = new AbortController();
  const tasks: ScheduledTask[] = [];
  const cronLog = {
    info: (m: string): void => log.debug(m),
    warn: (m: string): void => log.warn(m),
    error: (m: string | Error): void => log.error({ err: m instanceof Error ? m.message : m }, 'scheduler error'),
    debug: (m: string | Error): void => log.debug(m instanceof Error ? m.message : m),
  };

  const tick = (src: SourceConfig): void => {
    if (abort.signal.aborted) return;
    if (running.has(src.name)) {
      log.info({ source: src.name }, 'source sync still running from the previous tick; this tick is skipped');
      events.emit('skipped', { source: src.name });
      return;
    }
    const p = run(src, abort.signal)
      .then((r) => {
        if (r === null) {
          log.info({ source: src.name }, 'source sync already running (aps sync or the API); this tick is skipped');
          events.emit('skipped', { source: src.name });
          return;
        }
        log.info(
          { source: r.source, ok: r.ok, added: r.added, unchanged: r.unchanged, skipped: r.skipped, failed: r.failed, error: r.error },
          'scheduled source sync finished',
        );
        events.emit('run', r);
      })
      .catch((e: unknown) => log.error({ source: src.name, err: (e as Error).message }, 'scheduled source sync crashed'))
      .finally(() => running.delete(src.name));
    running.set(src.name, p);
  };

  for (const src of sources) {
    if (!src.schedule) continue;
    // The task function returns nothing on purpose: overlap and errors are handled here, not by node-cron.
    tasks.push(schedule(src.schedule, () => void tick(src), { name: `source:${src.name}`, logger: cronLog }));
  }
  return {
    events,
    scheduled: sources.filter((s) => s.schedule).map((s) => s.name),
    async stop(): Promise<void> {
      for (const t of tasks) await t.destroy();
      abort.abort();
      await Promise.allSettled(running.values());
    },
  };
}
