// Password guessing (issue 13, defect 2). Every credential check a device-facing path makes (HTTP Basic,
// Digest, a query password, an FTP login, a management session's Digest) goes through an attempt here: failures
// are counted per device and per client address; past a few free ones, each further try must wait an
// exponential back-off, and at `lockAfter` the subject is locked for a while, during which even the right
// password is refused. The counts live in the store (kv namespace `core:access`) so `aps access locks` and
// the admin API see them and `aps access unlock` clears them for a running server, on any node.
//
// Review 13: a lock must not be a cheap way to shut a device out (finding 3): failures from the device's
// own address (the one it last logged in from, `known:<id>`) are counted apart (`own:<id>`), so guesses
// from elsewhere lock `device:<id>` for every address but that one. An IPv6 client counts per /64
// (addressSubject). Unauthenticated clients cannot grow the store without bound (finding 8): at most
// `maxTrackedAddresses` address rows, the rest count together as "other addresses"; failures are written
// off the request path by the store's kv group commit (this process reads its own pending ones first, so no
// lock is lost, and the commit never waits for another process's write lock).
import type { ApsConfig } from '../config.ts';
import type { EventService } from '../adapter.ts';
import type { KvState } from '../kv-state.ts';
import type { Logger } from '../log.ts';
import { addressSubject, clientAddress, parseNetworks, type NetworkList } from './networks.ts';

export type AccessSubjectKind = 'device' | 'address';

/** A check still "in flight" after this long was abandoned by its caller: it no longer holds the subject back. */
const PENDING_STALE_MS = 30_000;
/** How long a device's last successful address is remembered, and how often that record is refreshed. */
const KNOWN_TTL_MS = 30 * 86_400_000;
const KNOWN_REFRESH_MS = 86_400_000;
/** How often the count of address rows is taken again from the store (rows expire there). */
const RECOUNT_MS = 60_000;
/** The subject of the overflow bucket: failures of addresses beyond maxTrackedAddresses. */
export const OTHER_ADDRESSES = 'other addresses';

interface Tracked {
  failures: number;
  /** ms since the epoch of the last failure. */
  lastAt: number;
  lockedUntil: number | null;
  adapter: string;
  reason: string;
}

/** The address subject a device last logged in from, and when that was recorded. */
interface Known {
  addr: string;
  at: number;
}

/** One tracked subject, as `aps access locks` and GET /api/v1/access/locks list it. */
export interface AccessLock {
  kind: AccessSubjectKind;
  subject: string;
  /**
   * For a device: null for failures from anywhere but its own address (a lock there refuses every other
   * address), else its own (last successful) address, whose failures are counted apart.
   */
  ownAddress: string | null;
  failures: number;
  lastFailure: string;
  /** ISO time until which every try is refused (a lock), or null. */
  lockedUntil: string | null;
  /** ISO time before which the next try is refused (the back-off), or null. */
  backoffUntil: string | null;
  adapter: string;
  lastReason: string;
}

/** A credential check in progress: `held` says why it may not be made now (then done() need not be called). */
export interface AccessAttempt {
  held: string | null;
  /**
   * The outcome: true the credentials were right, false they were checked and wrong, null nothing was
   * checked (none sent, an expired nonce): only false counts as a failure, `reason` saying which.
   */
  done(result: boolean | null, reason?: string): void;
}

export interface AttemptSubject {
  adapter: string;
  deviceId: string | null;
  ip: string | undefined;
  /**
   * One login checked by several parties (an FTP USER/PASS offered to each FTP adapter): every attempt
   * passing the same object counts a failure against a subject once.
   */
  once?: object;
}

type Key = { key: string; kind: AccessSubjectKind };

export class AccessGuard {
  private readonly kv: KvState;
  private readonly cfg: ApsConfig['access'];
  private readonly exempt: NetworkList | undefined;
  private readonly log: Logger;
  private readonly events: EventService;
  /**
   * Checks in flight per subject key (this process): parallel tries cannot slip past a back-off together.
   * `since` bounds the damage of a caller that never calls done() (a bug, an exception): after
   * PENDING_STALE_MS the count is ignored rather than holding the subject back for ever.
   */
  private readonly pending = new Map<string, { n: number; since: number }>();
  /** Address rows in the store (about: rows expire), taken again every RECOUNT_MS. */
  private addressRows = { n: 0, at: -Infinity };
  private readonly counted = new WeakMap<object, Set<string>>();

  constructor(kv: KvState, cfg: ApsConfig['access'], log: Logger, events: EventService) {
    this.kv = kv;
    this.cfg = cfg;
    this.exempt = parseNetworks(cfg.exemptNetworks, 'access.exemptNetworks');
    this.log = log;
    this.events = events;
  }

  // A device request reads three to six rows (its own, its address's, where it last logged in from): the
  // store's kv cache (src/store/kv-cache.ts) answers them from memory until another process commits, so
  // `aps access unlock` in the CLI is seen at once.
  private read<T>(key: string): T | undefined {
    return this.kv.get<T>(key);
  }

  /** A write (`value` undefined: a delete), committed with the store's next kv group commit. */
  private write(key: string, value: unknown, ttlMs = 0): void {
    try {
      if (value === undefined) this.kv.delete(key);
      else this.kv.set(key, value, ttlMs);
    } catch (e) {
      // A store that cannot write (disk full, closed) costs the records, never the request or the process.
      this.log.error({ err: (e as Error).message, key }, 'access guard: failed logins not written');
    }
  }

  /** Commits what is pending now (tests; the store commits it by itself within milliseconds). */
  flush(): void {
    this.kv.flush();
  }

  private addressKey(addr: string, own: boolean, now: number): string | null {
    const key = `address:${addr}`;
    if (this.read(key) !== undefined) return key;
    if (now - this.addressRows.at > RECOUNT_MS) this.addressRows = { n: this.kv.entries('address:').length, at: now };
    if (this.addressRows.n < this.cfg.maxTrackedAddresses) return key;
    // The table is full: a new address counts in the shared bucket, except a device at its own address.
    return own ? null : `address:${OTHER_ADDRESSES}`;
  }

  private keysOf(s: AttemptSubject, now: number): { keys: Key[]; addr: string | undefined } {
    const keys: Key[] = [];
    const addr = addressSubject(s.ip);
    let own = false;
    if (s.deviceId !== null) {
      own = addr !== undefined && this.read<Known>(`known:${s.deviceId}`)?.addr === addr;
      keys.push({ key: `${own ? 'own' : 'device'}:${s.deviceId}`, kind: 'device' });
    }
    if (addr !== undefined && !this.exempt?.contains(clientAddress(s.ip))) {
      const key = this.addressKey(addr, own, now);
      if (key) keys.push({ key, kind: 'address' });
    }
    return { keys, addr };
  }

  private delayMs(kind: AccessSubjectKind, failures: number): number {
    const over = failures - this.cfg[kind].freeFailures;
    if (over < 0) return 0;
    return Math.min(this.cfg.maxBackoffSeconds, this.cfg.backoffSeconds * 2 ** Math.min(over, 30)) * 1000;
  }

  /** Why a subject may not try now, or null. */
  private heldReason(key: string, kind: AccessSubjectKind, now: number): string | null {
    const t = this.read<Tracked>(key);
    const p = this.pending.get(key);
    const inFlight = p && now - p.since < PENDING_STALE_MS ? p.n : 0;
    if (t?.lockedUntil && t.lockedUntil > now) return `${kind} locked after ${t.failures} failed logins`;
    const failures = (t?.failures ?? 0) + inFlight;
    if (failures < this.cfg[kind].freeFailures) return null;
    // Past the free tries, one check at a time, and only once the back-off since the last failure is over.
    if (inFlight > 0) return `${kind} backing off (a check is in progress)`;
    if (t && now < t.lastAt + this.delayMs(kind, t.failures)) return `${kind} backing off after ${t.failures} failed logins`;
    return null;
  }

  /** Starts a credential check for the device and the client address. */
  attempt(s: AttemptSubject): AccessAttempt {
    const now = Date.now();
    const { keys, addr } = this.keysOf(s, now);
    for (const { key, kind } of keys) {
      const held = this.heldReason(key, kind, now);
      if (held) return { held, done: () => undefined };
    }
    for (const { key } of keys) {
      const p = this.pending.get(key);
      this.pending.set(key, p && now - p.since < PENDING_STALE_MS ? { n: p.n + 1, since: p.since } : { n: 1, since: now });
    }
    let finished = false;
    return {
      held: null,
      done: (result, reason = 'wrong credentials') => {
        if (finished) return;
        finished = true;
        for (const { key } of keys) {
          const p = this.pending.get(key);
          if (p && p.n > 1) p.n--;
          else this.pending.delete(key);
        }
        if (result === true && s.deviceId !== null) this.succeeded(s.deviceId, keys[0]!.key, addr);
        if (result === false) for (const k of keys) if (this.firstCount(s.once, k.key)) this.fail(k.key, k.kind, s, reason);
      },
    };
  }

  /** Whether this failure is the first of `once` against the key (always without `once`). */
  private firstCount(once: object | undefined, key: string): boolean {
    if (!once) return true;
    let keys = this.counted.get(once);
    if (!keys) this.counted.set(once, (keys = new Set()));
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  }

  /**
   * A right password: the failures of the key it was checked under are forgotten, and the address becomes
   * the device's own. Reads first: the hot path (a device polling from its own address) writes nothing.
   */
  private succeeded(deviceId: string, key: string, addr: string | undefined): void {
    if (this.read(key) !== undefined) this.write(key, undefined);
    if (addr === undefined) return;
    const knownKey = `known:${deviceId}`;
    const known = this.read<Known>(knownKey);
    const now = Date.now();
    if (known?.addr === addr && now - known.at < KNOWN_REFRESH_MS) return;
    // A device that moved: its failures at the old address are no longer its own address's.
    if (known && known.addr !== addr && this.read(`own:${deviceId}`) !== undefined) this.write(`own:${deviceId}`, undefined);
    this.write(knownKey, { addr, at: now } satisfies Known, KNOWN_TTL_MS);
  }

  private fail(key: string, kind: AccessSubjectKind, s: AttemptSubject, reason: string): void {
    const now = Date.now();
    const prev = this.read<Tracked>(key);
    if (prev === undefined && key.startsWith('address:')) this.addressRows.n++;
    const failures = (prev?.failures ?? 0) + 1;
    const relock = failures >= this.cfg[kind].lockAfter;
    const lockedUntil = relock ? now + this.cfg.lockSeconds * 1000 : (prev?.lockedUntil ?? null);
    const t: Tracked = { failures, lastAt: now, lockedUntil, adapter: s.adapter, reason: reason.slice(0, 200) };
    this.write(key, t, Math.max(lockedUntil ?? 0, now) - now + this.cfg.forgetSeconds * 1000);
    if (relock) {
      const subject = key.slice(key.indexOf(':') + 1);
      const own = key.startsWith('own:') ? ' at its own address' : '';
      // Once per lock, never rate-limited: this is what an admin looks for.
      this.log.warn(
        { adapter: s.adapter, [kind]: subject, ip: clientAddress(s.ip), failures, lockSeconds: this.cfg.lockSeconds },
        `${kind} locked${own} after failed logins: aps access unlock ${subject} clears it`,
      );
      this.events.record({
        adapter: s.adapter,
        deviceId: kind === 'device' ? subject : null,
        file: 'access',
        status: 401,
        ip: s.ip ?? null,
        detail: `${kind} ${subject}${own} locked for ${this.cfg.lockSeconds} s after ${failures} failed logins`,
      });
    }
  }

  /** Every subject with failures on record, locked ones first. */
  list(now = Date.now()): AccessLock[] {
    const out: AccessLock[] = [];
    for (const { key, value: t } of this.kv.entries<Tracked>()) {
      const [prefix] = key.split(':', 1) as [string];
      if (prefix === 'known') continue;
      const kind = prefix === 'address' ? 'address' : 'device';
      const subject = key.slice(prefix.length + 1);
      const backoff = t.lastAt + this.delayMs(kind, t.failures);
      out.push({
        kind,
        subject,
        ownAddress: prefix === 'own' ? (this.kv.get<Known>(`known:${subject}`)?.addr ?? null) : null,
        failures: t.failures,
        lastFailure: new Date(t.lastAt).toISOString(),
        lockedUntil: t.lockedUntil && t.lockedUntil > now ? new Date(t.lockedUntil).toISOString() : null,
        backoffUntil: backoff > now ? new Date(backoff).toISOString() : null,
        adapter: t.adapter,
        lastReason: t.reason,
      });
    }
    return out.sort((a, b) => Number(b.lockedUntil !== null) - Number(a.lockedUntil !== null) || b.failures - a.failures);
  }

  /**
   * Forgets the failures of a device id (from anywhere and from its own address), an address (an IPv6 one
   * as its /64) or "other addresses" (all of these, if a device is named like an address); how many were cleared.
   */
  unlock(subject: string): number {
    let n = 0;
    const keys = new Set([`device:${subject}`, `own:${subject}`, `address:${subject}`, `address:${addressSubject(subject) ?? subject}`]);
    for (const key of keys) {
      if (this.kv.get(key) !== undefined) {
        this.kv.delete(key);
        n++;
      }
    }
    if (n > 0) this.log.info({ subject }, 'access lock cleared');
    return n;
  }
}
