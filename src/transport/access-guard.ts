// Password guessing (issue 13, defect 2). Every credential check a device-facing path makes (HTTP Basic,
// Digest, a query password, an FTP login, a CWMP session's Digest) goes through an attempt here: failures
// are counted per device and per client address; past a few free ones, each further try must wait an
// exponential back-off, and at `lockAfter` the subject is locked for a while, during which even the right
// password is refused. The counts live in the store (kv namespace `core:access`) so `aps access locks` and
// the admin API see them and `aps access unlock` clears them for a running server, on any node.
import type { ApsConfig } from '../config.ts';
import type { EventService } from '../adapter.ts';
import type { KvState } from '../kv-state.ts';
import type { Logger } from '../log.ts';
import { clientAddress, parseNetworks, type NetworkList } from './networks.ts';

export type AccessSubjectKind = 'device' | 'address';

/** A check still "in flight" after this long was abandoned by its caller: it no longer holds the subject back. */
const PENDING_STALE_MS = 30_000;

interface Tracked {
  failures: number;
  /** ms since the epoch of the last failure. */
  lastAt: number;
  lockedUntil: number | null;
  adapter: string;
  reason: string;
}

/** One tracked subject, as `aps access locks` and GET /api/v1/access/locks list it. */
export interface AccessLock {
  kind: AccessSubjectKind;
  subject: string;
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
}

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

  constructor(kv: KvState, cfg: ApsConfig['access'], log: Logger, events: EventService) {
    this.kv = kv;
    this.cfg = cfg;
    this.exempt = parseNetworks(cfg.exemptNetworks, 'access.exemptNetworks');
    this.log = log;
    this.events = events;
  }

  private keysOf(s: AttemptSubject): Array<{ key: string; kind: AccessSubjectKind }> {
    const out: Array<{ key: string; kind: AccessSubjectKind }> = [];
    if (s.deviceId !== null) out.push({ key: `device:${s.deviceId}`, kind: 'device' });
    const ip = clientAddress(s.ip);
    if (ip && !this.exempt?.contains(ip)) out.push({ key: `address:${ip}`, kind: 'address' });
    return out;
  }

  private delayMs(kind: AccessSubjectKind, failures: number): number {
    const over = failures - this.cfg[kind].freeFailures;
    if (over < 0) return 0;
    return Math.min(this.cfg.maxBackoffSeconds, this.cfg.backoffSeconds * 2 ** Math.min(over, 30)) * 1000;
  }

  /** Why a subject may not try now, or null. */
  private heldReason(key: string, kind: AccessSubjectKind, now: number): string | null {
    const t = this.kv.get<Tracked>(key);
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
    const keys = this.keysOf(s);
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
        // A read first: the hot path (a device polling with the right password) writes nothing.
        if (result === true && s.deviceId !== null && this.kv.get(`device:${s.deviceId}`) !== undefined)
          this.kv.delete(`device:${s.deviceId}`);
        if (result === false) for (const k of keys) this.fail(k.key, k.kind, s, reason);
      },
    };
  }

  private fail(key: string, kind: AccessSubjectKind, s: AttemptSubject, reason: string): void {
    const now = Date.now();
    const prev = this.kv.get<Tracked>(key);
    const failures = (prev?.failures ?? 0) + 1;
    const relock = failures >= this.cfg[kind].lockAfter;
    const lockedUntil = relock ? now + this.cfg.lockSeconds * 1000 : (prev?.lockedUntil ?? null);
    const t: Tracked = { failures, lastAt: now, lockedUntil, adapter: s.adapter, reason: reason.slice(0, 200) };
    this.kv.set(key, t, Math.max(lockedUntil ?? 0, now) - now + this.cfg.forgetSeconds * 1000);
    if (relock) {
      const subject = key.slice(kind.length + 1);
      // Once per lock, never rate-limited: this is what an admin looks for.
      this.log.warn(
        { adapter: s.adapter, [kind]: subject, ip: clientAddress(s.ip), failures, lockSeconds: this.cfg.lockSeconds },
        `${kind} locked after failed logins: aps access unlock ${subject} clears it`,
      );
      this.events.record({
        adapter: s.adapter,
        deviceId: kind === 'device' ? subject : null,
        file: 'access',
        status: 401,
        ip: s.ip ?? null,
        detail: `${kind} ${subject} locked for ${this.cfg.lockSeconds} s after ${failures} failed logins`,
      });
    }
  }

  /** Every subject with failures on record, locked ones first. */
  list(now = Date.now()): AccessLock[] {
    const out: AccessLock[] = [];
    for (const { key, value: t } of this.kv.entries<Tracked>()) {
      const kind = key.startsWith('device:') ? 'device' : 'address';
      const backoff = t.lastAt + this.delayMs(kind, t.failures);
      out.push({
        kind,
        subject: key.slice(kind.length + 1),
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

  /** Forgets the failures of a device id or an address (both, if a device is named like an address); how many were cleared. */
  unlock(subject: string): number {
    let n = 0;
    for (const key of [`device:${subject}`, `address:${clientAddress(subject)}`]) {
      if (this.kv.get(key) !== undefined) {
        this.kv.delete(key);
        n++;
      }
    }
    if (n > 0) this.log.info({ subject }, 'access lock cleared');
    return n;
  }
}
