// Rate-limited refusal logging (issue 13, defect 2): a probe once wrote a log line and an event row per
// refusal (52,000 rows). The first refusals from an address in a minute are logged and recorded one by one;
// past that they are only counted, and one line and one event per address say "N refusals from X in the
// last minute" when the minute is over. An IPv6 client counts per /64, and at most `maxAddresses` windows
// are kept (review 13, finding 8): refusals from further addresses share one window, "other addresses".
import type { EventService } from '../adapter.ts';
import type { Logger } from '../log.ts';
import { addressSubject } from './networks.ts';

const WINDOW_MS = 60_000;
const OTHER_ADDRESSES = 'other addresses';

interface Window {
  start: number;
  total: number;
  summed: number;
  adapter: string;
  status: number;
  reason: string;
}

export interface RefusalNote {
  adapter: string;
  ip: string | undefined;
  status: number;
  reason: string;
}

export class RefusalLog {
  private readonly perMinute: number;
  private readonly log: Logger;
  private readonly events: EventService;
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxAddresses: number;

  constructor(perMinute: number, log: Logger, events: EventService, maxAddresses = 10_000) {
    this.perMinute = perMinute;
    this.maxAddresses = maxAddresses;
    this.log = log;
    this.events = events;
    this.timer = setInterval(() => this.flush(), WINDOW_MS / 4).unref();
  }

  /** True when this refusal is to be logged and recorded on its own; false when it only counts toward the summary. */
  note(n: RefusalNote, now = Date.now()): boolean {
    let ip = addressSubject(n.ip) ?? '(unknown)';
    if (!this.windows.has(ip) && this.windows.size >= this.maxAddresses) ip = OTHER_ADDRESSES;
    let w = this.windows.get(ip);
    if (w && now - w.start >= WINDOW_MS) {
      this.summarize(ip, w);
      w = undefined;
    }
    if (!w) {
      w = { start: now, total: 0, summed: 0, adapter: n.adapter, status: n.status, reason: n.reason };
      this.windows.set(ip, w);
    }
    w.total++;
    if (w.total <= this.perMinute) return true;
    w.summed++;
    Object.assign(w, { adapter: n.adapter, status: n.status, reason: n.reason });
    return false;
  }

  /** Summarizes the windows that are over (all of them with `all`, when the server stops). */
  flush(all = false, now = Date.now()): void {
    for (const [ip, w] of this.windows) {
      if (all || now - w.start >= WINDOW_MS) this.summarize(ip, w);
    }
  }

  private summarize(ip: string, w: Window): void {
    this.windows.delete(ip);
    if (w.summed === 0) return;
    const detail = `${w.total} refusals from ${ip} in the last minute (${w.summed} not logged one by one; last: ${w.reason})`;
    this.log.warn({ ip, refusals: w.total, summed: w.summed, adapter: w.adapter, lastReason: w.reason }, detail);
    this.events.record({ adapter: w.adapter, deviceId: null, file: 'refusals', status: w.status, ip, detail });
  }

  close(): void {
    clearInterval(this.timer);
    this.flush(true);
  }
}
