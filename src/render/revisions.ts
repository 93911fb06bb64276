import { createHash } from 'node:crypto';
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

  constructor(store: Store, now: () => number = Date.now) {
    this.store = store;
    this.now = now;
  }

  stamp(deviceId: string, file: string, bytes: Buffer): Revision {
    return this.stampDigests(deviceId, file, digests(bytes));
  }

  /** As stamp(), for bytes whose digests are known (a catalog artifact): nothing is read or hashed. */
  stampDigests(deviceId: string, file: string, digest: Digests): Revision {
    // Same bytes (every poll after a change): a plain read, no write lock, nothing to wait for.
    const prev = this.store.state.revision(deviceId, file);
    if (prev && prev.sha256 === digest.sha256) return toRevision(prev.serial, prev.modifiedMs, digest);
    // New bytes: read again and write under the write lock from the start (IMMEDIATE), so a write of
    // another process (the CLI) between the read and the write cannot fail the upgrade with SQLITE_BUSY.
    return this.store.transaction(() => {
      const r = this.next(this.store.state.revision(deviceId, file), digest);
      if (r.changed)
        this.store.state.putRevision({
          deviceId,
          file,
          sha256: digest.sha256,
          serial: r.revision.serial,
          modifiedMs: r.revision.lastModified.getTime(),
        });
      return r.revision;
    }, 'immediate');
  }

  /** The revision these bytes would get now, writing nothing: what a preview shows. */
  peek(deviceId: string, file: string, bytes: Buffer): Revision {
    return this.next(this.store.state.revision(deviceId, file), digests(bytes)).revision;
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
    const r = this.store.state.revision(deviceId, file);
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
