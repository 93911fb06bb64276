import { isBusyError, reportBackgroundWriteError } from './db.ts';
import type { Store } from './index.ts';

/** How soon writes another process's (the CLI's) write lock kept out are tried again. */
const RETRY_MS = 1000;

/** What `unlessLocked` answers when another process held the write lock: nothing was written. */
export const LOCKED: unique symbol = Symbol('locked');

/**
 * Runs fn without waiting for another process's write lock (a device request must never stall behind the
 * CLI): its result, or LOCKED when that lock kept it out. Any other error is thrown.
 */
export function unlessLocked<T>(store: Pick<Store, 'withoutWaiting'>, fn: () => T): T | typeof LOCKED {
  try {
    return store.withoutWaiting(fn);
  } catch (e) {
    if (isBusyError(e)) return LOCKED;
    throw e;
  }
}

/**
 * Rows a device request decided while another process held the write lock: kept here by key (the owner reads
 * them back first, they are the newer), and written together by a timer once the lock is free. Used by the
 * revision store (src/render/revisions.ts) and the window gate's fetches (src/windows/gate.ts).
 */
export class DeferredWrites<V> {
  private readonly rows = new Map<string, V>();
  private timer: NodeJS.Timeout | null = null;
  private readonly store: Pick<Store, 'withoutWaiting' | 'transaction'>;
  private readonly write: (row: V) => void;
  private readonly what: string;
  // A retry failing for a reason other than the lock (disk full, I/O) is reported once, not every second.
  private failing = false;

  /** @param what names the rows in the log line of a failed background write ("revisions", "window fetches"). */
  constructor(store: Pick<Store, 'withoutWaiting' | 'transaction'>, what: string, write: (row: V) => void) {
    this.store = store;
    this.what = what;
    this.write = write;
  }

  /** Keeps a row the lock kept out (over an older one of the same key) and arms the timer. */
  defer(key: string, row: V): void {
    this.rows.set(key, row);
    this.arm();
  }

  get(key: string): V | undefined {
    return this.rows.get(key);
  }

  /** A row written (or made moot) since: not written again. */
  forget(key: string): void {
    this.rows.delete(key);
  }

  /** Rows made moot all at once (their device was removed). */
  forgetIf(moot: (row: V) => boolean): void {
    for (const [k, r] of this.rows) if (moot(r)) this.rows.delete(k);
  }

  values(): IterableIterator<V> {
    return this.rows.values();
  }

  /** Writes every kept row in one transaction; `wait` (shutdown) waits for the lock, else a held lock re-arms the timer. */
  flush(wait = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.rows.size === 0) return;
    const all = (): void =>
      this.store.transaction(() => {
        for (const r of this.rows.values()) this.write(r);
      }, 'immediate');
    if (wait) all();
    else if (unlessLocked(this.store, all) === LOCKED) return this.arm();
    this.rows.clear();
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.retry(), RETRY_MS);
    this.timer.unref();
  }

  // From the timer: an error thrown here would end the server, so the rows stay and are tried again.
  private retry(): void {
    try {
      this.flush();
      this.failing = false;
    } catch (e) {
      if (!this.failing) reportBackgroundWriteError(this.what, e);
      this.failing = true;
      this.arm();
    }
  }
}
