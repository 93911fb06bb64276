import type { Logger } from '../log.ts';
import { nowIso } from '../clock.ts';
import {
  isBusyError,
  type EventFault,
  type EventRecord,
  type FetchedEntry,
  type NewEvent,
  type StateUpdate,
  type Store,
} from '../store/index.ts';

export interface DeviceEvent {
  deviceId: string | null;
  adapter: string;
  file: string;
  status: number;
  bytes?: number;
  artifactId?: number | null;
  revision?: number | null;
  ip?: string | null;
  ua?: string | null;
  detail?: string | null;
  /**
   * A device fault (the device's own code and message, e.g. a TR-069 FaultCode): recorded as such, with
   * `status` what the server answered (a device's failure is not a server error, so never 500 for it).
   */
  fault?: EventFault | null;
  /** false: the server learned this without hearing from the device (a timeout), so last-seen stays. */
  seen?: boolean;
}

export interface ReportInput {
  deviceId: string;
  ip?: string | null;
  ua?: string | null;
  /** What the device says it runs (firmware version, config serial…); `firmware` feeds the fleet view. */
  reported?: Record<string, unknown>;
  fetched?: Record<string, FetchedEntry>;
  /** false: the server learned this without hearing from the device, so last-seen stays as it was. */
  seen?: boolean;
}

export interface EventSinkOptions {
  /** Events waiting to be written beyond which the oldest are dropped (counted): memory stays bounded. */
  maxQueued?: number;
}

export interface EventSinkStats {
  /** Events written to the store since start. */
  written: number;
  /** Events lost: the queue overflowed while the store refused writes, a row the store rejects, or a close with the store locked. */
  dropped: number;
  /** Background writes that failed (and were retried). */
  writeFailures: number;
  /** Events waiting now. */
  queued: number;
}

const FLUSH_MS = 50;
const BATCH = 500;
// Back-off between retries of a failed write (the last value repeats while the store stays locked).
const RETRY_MS = [50, 100, 250, 500, 1000, 2000];
// A failure that is not a lock (disk full, a row the schema rejects) is retried this many times, then the
// queue is written row by row so only the rows the store rejects are dropped.
const ATTEMPTS_BEFORE_SPLIT = 3;

/**
 * Records device requests and reported state. Writes are queued and committed in one transaction per
 * tick (sooner once 500 rows wait), always from a timer: no device request pays for a flush. A write never
 * waits for another process's lock (the CLI's apply): it fails at once and is retried with back-off, so
 * device requests keep being answered; nothing is dropped unless the queue outgrows its bound or the store
 * rejects a row, and every drop is counted (`stats()`, `/metrics`) and logged. `flush()` on shutdown and in tests.
 */
export class EventSink {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly maxQueued: number;
  private events: NewEvent[] = [];
  private states = new Map<string, StateUpdate>();
  private timer: NodeJS.Timeout | null = null;
  // Consecutive failed writes (any cause: the back-off), and those not caused by a lock (the split).
  private retries = 0;
  private hardFailures = 0;
  // The armed timer fires at once (a full batch): later records need not touch it.
  private soon = false;
  private readonly counts = { written: 0, dropped: 0, writeFailures: 0 };
  private readonly listeners = new Set<(e: NewEvent) => void>();

  constructor(store: Store, log: Logger, opts: EventSinkOptions = {}) {
    this.store = store;
    this.log = log;
    this.maxQueued = opts.maxQueued ?? 100_000;
  }

  record(e: DeviceEvent): void {
    const ev: NewEvent = {
      at: nowIso(),
      deviceId: e.deviceId,
      adapter: e.adapter,
      file: e.file,
      artifactId: e.artifactId ?? null,
      revision: e.revision ?? null,
      bytes: e.bytes ?? 0,
      status: e.status,
      ip: e.ip ?? null,
      ua: e.ua ?? null,
      detail: e.detail ?? null,
      fault: e.fault ?? null,
    };
    this.events.push(ev);
    if (this.events.length > this.maxQueued) this.drop(this.events.splice(0, this.events.length - this.maxQueued).length, 'queue full');
    for (const l of this.listeners) l(ev);
    if (e.deviceId && e.status < 400 && e.seen !== false) this.queueState({ deviceId: e.deviceId, at: ev.at, ip: e.ip, ua: e.ua });
    this.schedule();
  }

  report(r: ReportInput): void {
    const { seen, ...rest } = r;
    this.queueState({ ...rest, at: seen === false ? null : nowIso() });
    this.schedule();
  }

  // One request often yields several updates of the same device (seen, reported, fetched): merge them so a
  // flush writes one row per device, not one per call.
  private queueState(u: StateUpdate): void {
    mergeState(this.states, u);
  }

  /** The device's state update queued for the next write, if any (read through by `DeviceRegistry.state`). */
  queuedState(deviceId: string): StateUpdate | undefined {
    return this.states.get(deviceId);
  }

  /** Drops the device's queued state (it was removed: a new device of its id must not inherit it). Its events stay. */
  forgetState(deviceId: string): void {
    this.states.delete(deviceId);
  }

  /** For metrics and the live event stream: called synchronously for every recorded event; returns the unsubscribe. */
  onEvent(fn: (e: NewEvent) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** The newest event of one device (queued ones written first). */
  lastEvent(deviceId: string): EventRecord | undefined {
    this.flush();
    return this.store.state.lastEvent(deviceId);
  }

  /** The newest event of every device that has one. */
  lastEvents(): Map<string, EventRecord> {
    this.flush();
    return this.store.state.lastEvents();
  }

  stats(): EventSinkStats {
    return { ...this.counts, queued: this.events.length };
  }

  /** Writes everything queued now, waiting for a lock if need be (shutdown, tests, admin reads); on failure it stays queued. */
  flush(): void {
    this.write(true);
  }

  /** The last flush: what the store still refuses is dropped, counted and logged. */
  close(): void {
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.soon = false;
    if (this.events.length > 0) this.drop(this.events.length, 'store closed with events unwritten');
    this.events = [];
    this.states = new Map();
  }

  /** Drops events older than the retention (and expired adapter state); returns how many events went. */
  prune(retentionDays: number, now = Date.now()): number {
    if (retentionDays <= 0) return 0;
    this.flush();
    this.store.state.kvPurgeExpired(now);
    return this.store.state.pruneEvents(new Date(now - retentionDays * 86_400_000).toISOString());
  }

  private write(wait: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.soon = false;
    if (this.events.length === 0 && this.states.size === 0) return;
    const events = this.events;
    const states = this.states;
    this.events = [];
    this.states = new Map();
    const commit = (): void =>
      this.store.transaction(() => {
        this.store.state.insertEvents(events);
        for (const s of states.values()) this.store.devices.updateState(s);
      }, 'immediate');
    try {
      if (wait) commit();
      else this.store.withoutWaiting(commit);
      this.counts.written += events.length;
      this.retries = 0;
      this.hardFailures = 0;
    } catch (e) {
      this.counts.writeFailures++;
      this.retries++;
      if (!isBusyError(e) && ++this.hardFailures >= ATTEMPTS_BEFORE_SPLIT) {
        this.hardFailures = 0;
        this.retries = 0; // the split settles the batch; what a lock kept back is retried at once
        this.writeEach(events, states, e);
      } else {
        this.requeue(events, states);
        // One line when a stretch of failures starts, then one per hundred: a long CLI lock is not a log flood.
        if (this.retries === 1 || this.counts.writeFailures % 100 === 0)
          this.log.warn({ err: e, queued: this.events.length }, 'could not write events; retrying');
      }
    }
    if (this.events.length > 0 || this.states.size > 0)
      this.arm(this.retries > 0 ? RETRY_MS[Math.min(this.retries, RETRY_MS.length) - 1]! : 0);
  }

  // A failure that persists: each row alone, so one the store rejects loses only itself.
  private writeEach(events: NewEvent[], states: Map<string, StateUpdate>, cause: unknown): void {
    let lost = 0;
    for (const ev of events) {
      try {
        this.store.withoutWaiting(() => this.store.state.insertEvents([ev]));
        this.counts.written++;
      } catch (e) {
        if (isBusyError(e)) this.events.push(ev);
        else lost++;
      }
    }
    for (const st of states.values()) {
      try {
        this.store.withoutWaiting(() => this.store.devices.updateState(st));
      } catch (e) {
        if (isBusyError(e)) mergeState(this.states, st);
      }
    }
    if (lost > 0) this.drop(lost, 'the store rejected them', cause);
  }

  // A failed batch goes back in front of what was recorded meanwhile; newer state merges over it.
  private requeue(events: NewEvent[], states: Map<string, StateUpdate>): void {
    this.events = events.concat(this.events);
    if (this.events.length > this.maxQueued) this.drop(this.events.splice(0, this.events.length - this.maxQueued).length, 'queue full');
    const newer = this.states;
    this.states = states;
    for (const u of newer.values()) mergeState(this.states, u);
  }

  private drop(n: number, why: string, err?: unknown): void {
    this.counts.dropped += n;
    this.log.error({ err, dropped: n, droppedTotal: this.counts.dropped }, `events dropped: ${why}`);
  }

  private arm(ms: number): void {
    if (this.timer) return;
    this.soon = ms === 0;
    this.timer = setTimeout(() => this.write(false), ms);
    this.timer.unref();
  }

  private schedule(): void {
    const full = this.events.length + this.states.size >= BATCH;
    if (this.timer) {
      // A retry's back-off stands, and so does a flush already due now; a full batch brings a later one forward.
      if (this.retries > 0 || this.soon || !full) return;
      clearTimeout(this.timer);
      this.timer = null;
    }
    // A full batch gets a timer of its own: the request that filled it never pays for the flush.
    this.arm(this.retries > 0 ? RETRY_MS[Math.min(this.retries, RETRY_MS.length) - 1]! : full ? 0 : FLUSH_MS);
  }
}

// `u` becomes the queue's: every caller hands over an object of its own making (or one of a batch it drops).
function mergeState(states: Map<string, StateUpdate>, u: StateUpdate): void {
  const prev = states.get(u.deviceId);
  if (!prev) {
    states.set(u.deviceId, u);
    return;
  }
  prev.at = u.at ?? prev.at;
  if (u.ip) prev.ip = u.ip;
  if (u.ua) prev.ua = u.ua;
  if (u.reported) prev.reported = { ...prev.reported, ...u.reported };
  if (u.fetched) prev.fetched = { ...prev.fetched, ...u.fetched };
}
