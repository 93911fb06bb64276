import type { Logger } from '../log.ts';
import type { EventFault, EventRecord, FetchedEntry, NewEvent, StateUpdate, Store } from '../store/index.ts';

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

/**
 * Records device requests and reported state. Writes are queued and committed in one transaction per
 * tick (or every 500 rows), so the device hot path never waits for SQLite; `flush()` on shutdown and in tests.
 */
export class EventSink {
  private readonly store: Store;
  private readonly log: Logger;
  private events: NewEvent[] = [];
  private states = new Map<string, StateUpdate>();
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(e: NewEvent) => void>();

  constructor(store: Store, log: Logger) {
    this.store = store;
    this.log = log;
  }

  record(e: DeviceEvent): void {
    const ev: NewEvent = {
      at: new Date().toISOString(),
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
    for (const l of this.listeners) l(ev);
    if (e.deviceId && e.status < 400 && e.seen !== false) this.queueState({ deviceId: e.deviceId, at: ev.at, ip: e.ip, ua: e.ua });
    this.schedule();
  }

  report(r: ReportInput): void {
    const { seen, ...rest } = r;
    this.queueState({ ...rest, at: seen === false ? null : new Date().toISOString() });
    this.schedule();
  }

  // One request often yields several updates of the same device (seen, reported, fetched): merge them so a
  // flush writes one row per device, not one per call.
  private queueState(u: StateUpdate): void {
    const prev = this.states.get(u.deviceId);
    if (!prev) {
      this.states.set(u.deviceId, { ...u });
      return;
    }
    prev.at = u.at ?? prev.at;
    if (u.ip) prev.ip = u.ip;
    if (u.ua) prev.ua = u.ua;
    if (u.reported) prev.reported = { ...prev.reported, ...u.reported };
    if (u.fetched) prev.fetched = { ...prev.fetched, ...u.fetched };
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

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.events.length === 0 && this.states.size === 0) return;
    const events = this.events;
    const states = [...this.states.values()];
    this.events = [];
    this.states = new Map();
    try {
      this.store.transaction(() => {
        this.store.state.insertEvents(events);
        for (const s of states) this.store.devices.updateState(s);
      });
    } catch (e) {
      this.log.error({ err: e, events: events.length }, 'could not write events');
    }
  }

  /** Drops events older than the retention (and expired adapter state); returns how many events went. */
  prune(retentionDays: number, now = Date.now()): number {
    if (retentionDays <= 0) return 0;
    this.flush();
    this.store.state.kvPurgeExpired(now);
    return this.store.state.pruneEvents(new Date(now - retentionDays * 86_400_000).toISOString());
  }

  private schedule(): void {
    if (this.events.length + this.states.size >= 500) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), 50);
  }
}
