import { createHash } from 'node:crypto';
import { DeferredWrites, LOCKED, unlessLocked } from '../store/deferred-writes.ts';
import type { RevisionRecord, Store } from '../store/index.ts';

export interface Revision {
  /** Only grows: 1 for the first bytes ever rendered for this device and file. */
  serial: number;
  /** Whole seconds (HTTP dates have no finer grain), strictly later for every new serial. */
  lastModified: Date;
  etag: string;
  sha256: string;
  md5: string;
}

/**
 * Stable revisions of rendered files. Same bytes keep their serial and Last-Modified across restarts;
 * new bytes get serial+1 and a Last-Modified at least one second later than the previous one, so a
 * device comparing either (VOP serials, AudioCodes If-Modified-Since) sees a change exactly when there is one.
 */
export class RevisionStore {
  private readonly store: Store;
  private readonly now: () => number;
  /** Revisions decided while another process (the CLI) held the write lock: answered from here until written. */
  private readonly unsaved: DeferredWrites<RevisionRecord>;

  constructor(store: Store, now: () => number = Date.now) {
    this.store = store;
    this.now = now;
    this.unsaved = new DeferredWrites(store, 'revisions', (r) => store.state.putRevision(r));
  }

  stamp(deviceId: string, file: string, bytes: Buffer): Revision {
    return this.stampDigests(deviceId, file, digests(bytes));
  }

  /** As stamp(), for bytes whose digests are known (a catalog artifact): nothing is read or hashed. */
  stampDigests(deviceId: string, file: string, digest: Digests): Revision {
    // Same bytes (every poll after a change): a plain read, no write lock, nothing to wait for.
    const prev = this.read(deviceId, file);
    if (prev && prev.sha256 === digest.sha256) return toRevision(prev.serial, prev.modifiedMs, digest);
    return this.update(deviceId, file, (latest) => {
      const r = this.next(latest, digest);
      const record = r.changed
        ? { deviceId, file, sha256: digest.sha256, serial: r.revision.serial, modifiedMs: r.revision.lastModified.getTime() }
        : undefined;
      return { record, out: r.revision };
    });
  }

  /** The latest revision record: a stored one, or one decided while the write lock was taken and not written yet. */
  read(deviceId: string, file: string): RevisionRecord | undefined {
    return this.unsaved.get(`${deviceId}\0${file}`) ?? this.store.state.revision(deviceId, file);
  }

  /**
   * Decides a new revision from the latest record and writes it. The read and the write run under the write
   * lock from the start (IMMEDIATE), so no write of another process slips between them; but a device request
   * never waits for that lock: when another process (the CLI) holds it, the decision is made from what this
   * process knows (nothing else stamps revisions), answered at once and written by a timer once the lock is free.
   */
  update<T>(deviceId: string, file: string, decide: (latest: RevisionRecord | undefined) => { record?: RevisionRecord; out: T }): T {
    const key = `${deviceId}\0${file}`;
    const written = unlessLocked(this.store, () =>
      this.store.transaction(() => {
        const d = decide(this.read(deviceId, file));
        if (d.record) {
          this.store.state.putRevision(d.record);
          this.unsaved.forget(key);
        }
        return d.out;
      }, 'immediate'),
    );
    if (written !== LOCKED) return written;
    const d = decide(this.read(deviceId, file));
    if (d.record) this.unsaved.defer(key, d.record);
    return d.out;
  }

  /** Writes the revisions decided under another process's lock; `wait` (shutdown) waits for the lock. */
  flush(wait = false): void {
    this.unsaved.flush(wait);
  }

  /** The revision these bytes would get now, writing nothing: what a preview shows. */
  peek(deviceId: string, file: string, bytes: Buffer): Revision {
    return this.next(this.read(deviceId, file), digests(bytes)).revision;
  }

  private next(prev: RevisionRecord | undefined, digest: Digests): { revision: Revision; changed: boolean } {
    if (prev && prev.sha256 === digest.sha256) return { revision: toRevision(prev.serial, prev.modifiedMs, digest), changed: false };
    const second = Math.floor(this.now() / 1000) * 1000;
    const serial = (prev?.serial ?? 0) + 1;
    // A device may have fetched the previous bytes earlier in this very second and will ask
    // If-Modified-Since <that second> (AudioCodes sends the time of its last download: protocols.md §(a)
    // step 2). A change in that second stamped with the same second would answer 304 forever after, so
    // a new revision dates from the next second; the file responder holds a request until then, so
    // Last-Modified never runs ahead of Date (RFC 9110 §8.8.2.1).
    const modifiedMs = prev ? Math.max(second + 1000, prev.modifiedMs + 1000) : second;
    return { revision: toRevision(serial, modifiedMs, digest), changed: true };
  }

  current(deviceId: string, file: string): { serial: number; lastModified: Date } | undefined {
    const r = this.read(deviceId, file);
    return r && { serial: r.serial, lastModified: new Date(r.modifiedMs) };
  }
}

export interface Digests {
  sha256: string;
  md5: string;
}

function digests(bytes: Buffer): Digests {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), md5: createHash('md5').update(bytes).digest('hex') };
}

function toRevision(serial: number, modifiedMs: number, d: Digests): Revision {
  return { serial, lastModified: new Date(modifiedMs), etag: `"${d.sha256.slice(0, 32)}"`, sha256: d.sha256, md5: d.md5 };
}
