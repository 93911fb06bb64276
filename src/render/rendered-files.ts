import type { ArtifactRecord, RevisionRecord, Store } from '../store/index.ts';
import type { Revision, RevisionStore } from './revisions.ts';

export interface RenderedFile {
  bytes: Buffer;
  revision: Revision;
}

const MAX_ENTRIES = 50_000;
/**
 * The bytes the cache may hold (issue 15's memory goal): 10,000 devices' configs after a boot storm held
 * ~6 MiB of objects plus their bytes, mostly for devices that poll again hours later. Past it the least
 * recently used go; a device whose entry went is rendered again on its next poll (same bytes, same revision).
 */
const MAX_BYTES = 8 * 1024 * 1024;
/** What an entry costs beyond its bytes (key, revision, digests), roughly: counted so tiny files are bounded too. */
const ENTRY_OVERHEAD = 512;

/**
 * Render once per change, serve from memory after. An entry is reused while the store's change generation
 * (bumped by any device, group or artifact write, from any process) and the caller's input key are the
 * same, so a poll costs one indexed read, not a render and a hash.
 */
export class RenderedFiles {
  private readonly store: Store;
  private readonly revisions: RevisionStore;
  private readonly cache = new Map<string, { gen: number; inputKey: string; file: RenderedFile }>();
  private cachedBytes = 0;

  private readonly persist: boolean;

  constructor(store: Store, revisions: RevisionStore, persist = true) {
    this.store = store;
    this.revisions = revisions;
    this.persist = persist;
  }

  /**
   * The same files as devices would get them now, for previews: rendered fresh and dated with the revision
   * they would get, but no revision is written. A preview (possibly from the CLI, whose public URLs may
   * differ from the server's) must never move a device's serial or Last-Modified.
   */
  readOnly(): RenderedFiles {
    return new RenderedFiles(this.store, this.revisions, false);
  }

  /**
   * @param inputKey anything else the bytes depend on that the generation does not cover (profile hash…)
   * @param render pure: builds the bytes from current state
   */
  get(deviceId: string, file: string, inputKey: string, render: () => Buffer): RenderedFile {
    if (!this.persist) {
      const bytes = render();
      return { bytes, revision: this.revisions.peek(deviceId, file, bytes) };
    }
    const key = `${deviceId}\0${file}`;
    const gen = this.store.state.generation();
    const hit = this.cache.get(key);
    if (hit && hit.gen === gen && hit.inputKey === inputKey) {
      this.cache.delete(key); // keep recently used entries at the end: eviction takes the oldest
      this.cache.set(key, hit);
      return hit.file;
    }
    const bytes = render();
    const out = { bytes, revision: this.revisions.stamp(deviceId, file, bytes) };
    if (hit) this.forget(key, hit.file);
    this.cache.set(key, { gen, inputKey, file: out });
    this.cachedBytes += bytes.length + ENTRY_OVERHEAD;
    // Least recently used first (a hit moves to the end).
    while (this.cache.size > MAX_ENTRIES || this.cachedBytes > MAX_BYTES) {
      const [oldest, entry] = this.cache.entries().next().value!;
      this.forget(oldest, entry.file);
    }
    return out;
  }

  private forget(key: string, file: RenderedFile): void {
    this.cache.delete(key);
    this.cachedBytes -= file.bytes.length + ENTRY_OVERHEAD;
  }

  /**
   * The serial a vendor compares ("greater than the one I have": a firmware serial) for the artifact
   * a device gets in a slot. It is the device's own counter, not the artifact's: stable while the target
   * stays, and one more (at least the artifact's own serial) whenever the target changes, whichever way the
   * profile's order or a pin moved it, so pinning an older firmware still announces a greater serial. The
   * first one is at least every serial (or, without one, id) of the slot's artifacts — the most an APS
   * before this counter could have announced — so a device that got a higher one then still sees a greater
   * serial now (at worst one repeated download after the upgrade). A read-only view (previews) writes nothing.
   */
  private firstSerial(a: ArtifactRecord): number {
    let max = a.serial ?? a.id;
    for (const x of this.store.artifacts.list(a.profile)) {
      if (x.kind === a.kind && x.role === a.role) max = Math.max(max, x.serial ?? x.id);
    }
    return max;
  }

  artifactSerial(deviceId: string, slot: string, a: ArtifactRecord): number {
    const file = `serial:${slot}`;
    const next = (prev: RevisionRecord | undefined): { serial: number; changed: boolean } => {
      if (prev && prev.sha256 === a.sha256) return { serial: prev.serial, changed: false };
      return { serial: prev ? Math.max(prev.serial + 1, a.serial ?? 0) : this.firstSerial(a), changed: true };
    };
    const seen = next(this.revisions.read(deviceId, file));
    if (!seen.changed || !this.persist) return seen.serial;
    return this.revisions.update(deviceId, file, (latest) => {
      const r = next(latest);
      return {
        record: r.changed ? { deviceId, file, sha256: a.sha256, serial: r.serial, modifiedMs: Date.now() } : undefined,
        out: r.serial,
      };
    });
  }
}
