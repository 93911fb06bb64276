import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, finished } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuditLog } from '../admin/audit.ts';
import type { Catalog } from '../catalog/catalog.ts';
import { isSafeFilename } from '../catalog/catalog.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Keyring } from '../devices/secrets.ts';
import { ApsError, isApsError } from '../errors.ts';
import type { EventSink } from '../events/event-sink.ts';
import type { Logger } from '../log.ts';
import type { ArtifactRecord, BackupRecord, Store, StoredBackup } from '../store/index.ts';
import { fsyncDir, leftBehind } from '../fs-atomic.ts';
import { unifiedDiff } from './backup-diff.ts';
import { SealStream, openSealed } from './seal.ts';

export type { BackupRecord };

/** A backup number as typed in a command, path or query: a positive integer, else a clear error naming it. */
export function backupNumber(value: unknown, what = 'backup number'): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^[1-9]\d{0,14}$/.test(value)) {
    throw new ApsError('bad_request', `${what} must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export interface BackupPutInput {
  deviceId: string;
  /** The name the device used (its URL's last segment, placeholders replaced). */
  name: string;
  /** The rolling index (`#bn`) the adapter computed, if any. */
  slot?: number | null;
  /** Overrides `backups.maxBytes` for this upload. */
  maxBytes?: number;
  /** The device's address, for the record. */
  remote?: string | null;
}

export interface BackupStoreOptions {
  dataDir: string;
  /** How many backups to keep per device (older ones are removed when a new one arrives). */
  keep: number;
  maxBytes: number;
}

export interface BackupDeps {
  store: Store;
  keys: Keyring;
  catalog: Catalog;
  devices: DeviceRegistry;
  events: EventSink;
  log: Logger;
  audit: AuditLog;
}

const NAME_MAX = 255;
const SAFE_DIR = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
// A file neither any row names nor any live process is writing is a crash leftover. One whose writer may
// still run (its pid is alive on this host) is left alone unless it is this old: no upload takes that long.

/**
 * Files devices upload about themselves (configuration backups), vendor-neutral: adapters call put() with
 * the request body. Each backup is a sealed file under <dataDir>/backups/<device>/ plus a row in the store;
 * a row exists only once its file is complete and in place, so a crash leaves at most files no row names,
 * which open() removes.
 */
export class BackupStore {
  private readonly deps: BackupDeps;
  private readonly opts: BackupStoreOptions;
  private readonly root: string;
  private readonly tmp: string;

  constructor(deps: BackupDeps, opts: BackupStoreOptions) {
    this.deps = deps;
    this.opts = opts;
    this.root = join(opts.dataDir, 'backups');
    this.tmp = join(this.root, 'tmp');
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
    this.removeLeftovers();
  }

  /**
   * Streams the body into a sealed temp file while hashing it, then stores it as the device's next backup.
   * Refuses with ApsError('too_large') as soon as more than maxBytes arrive (the caller answers 413; the
   * rest of the body is read and discarded so the answer reaches the device); a body that errors or closes
   * before its end stores nothing. The same bytes as the device's latest backup are not stored again.
   * The caller checks who may PUT (a known, active device, into its own slot) and records the request as
   * an event, since it knows the answer it gives.
   */
  async put(body: NodeJS.ReadableStream, input: BackupPutInput): Promise<{ backup: BackupRecord; created: boolean }> {
    const device = this.deps.devices.require(input.deviceId);
    const name = checkName(input.name);
    const slot = input.slot ?? null;
    if (slot !== null && (!Number.isSafeInteger(slot) || slot < 0))
      throw new ApsError('bad_request', `slot must be a non-negative integer`);
    const limit = input.maxBytes ?? this.opts.maxBytes;
    const tmp = join(this.tmp, `${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
    let placed: string | undefined;
    let kept = false;
    try {
      const { sha256, size } = await this.receive(body, tmp, device.id, limit);
      if (size === 0) throw new ApsError('bad_request', 'an empty backup is not stored');
      const same = this.deps.store.backups.latest(device.id);
      if (same?.sha256 === sha256) return { backup: publicRecord(same), created: false };

      const dir = this.deviceDir(device.id);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = `${process.pid}-${randomBytes(8).toString('hex')}.bak`;
      placed = join(dir, file);
      renameSync(tmp, placed);
      fsyncDir(dir);

      const result = this.deps.store.transaction(() => {
        if (!this.deps.store.devices.get(device.id)) throw new ApsError('not_found', `no device ${device.id}`);
        const last = this.deps.store.backups.latest(device.id);
        // A concurrent identical PUT (a device retrying) may have won the race: keep one copy.
        if (last?.sha256 === sha256) return { record: last, created: false, pruned: [] as StoredBackup[] };
        const record: StoredBackup = {
          deviceId: device.id,
          seq: (last?.seq ?? 0) + 1,
          name,
          slot,
          at: new Date().toISOString(),
          size,
          sha256,
          remote: input.remote ?? null,
          file,
        };
        this.deps.store.backups.insert(record);
        return { record, created: true, pruned: this.deps.store.backups.prune(device.id, this.opts.keep) };
      }, 'immediate');
      kept = result.created;
      for (const old of result.pruned) rmSync(join(dir, old.file), { force: true });
      if (result.created) {
        this.deps.log.info(
          { device: device.id, seq: result.record.seq, size, sha256, slot, pruned: result.pruned.map((b) => b.seq) },
          'backup stored',
        );
      }
      return { backup: publicRecord(result.record), created: result.created };
    } finally {
      rmSync(tmp, { force: true });
      if (placed && !kept) rmSync(placed, { force: true });
    }
  }

  /** Newest first. */
  list(deviceId: string): BackupRecord[] {
    return this.deps.store.backups.list(deviceId).map(publicRecord);
  }

  get(deviceId: string, seq: number): BackupRecord | undefined {
    const b = this.deps.store.backups.get(deviceId, seq);
    return b && publicRecord(b);
  }

  /** The newest backup; given a slot (null: those stored without one), the newest of that slot. */
  latest(deviceId: string, slot?: number | null): BackupRecord | undefined {
    const b = this.deps.store.backups.latest(deviceId, slot);
    return b && publicRecord(b);
  }

  /** The bytes the device sent. */
  read(deviceId: string, seq: number): Buffer {
    const b = this.deps.store.backups.get(deviceId, seq);
    if (!b) throw new ApsError('not_found', `device ${deviceId} has no backup ${seq}`);
    let sealed: Buffer;
    try {
      sealed = readFileSync(join(this.deviceDir(deviceId), b.file));
    } catch {
      throw new ApsError('internal', `backup ${seq} of device ${deviceId}: its file is missing`);
    }
    const bytes = openSealed(sealed, this.key(), deviceId);
    if (!bytes) throw new ApsError('internal', `backup ${seq} of device ${deviceId} does not open with this data folder's secret.key`);
    return bytes;
  }

  /**
   * A unified diff of backup a against b, ignoring lines that match a volatile pattern; '' when they do
   * not differ otherwise. Default b: the latest; default a: the one before b (nothing, when b is the first).
   */
  diff(deviceId: string, a?: number, b?: number, volatile: RegExp[] = []): string {
    const all = this.deps.store.backups.list(deviceId);
    if (all.length === 0) throw new ApsError('not_found', `device ${deviceId} has no backups`);
    const right = b === undefined ? all[0]! : this.require(deviceId, b);
    const left = a === undefined ? all.find((x) => x.seq < right.seq) : this.require(deviceId, a);
    return unifiedDiff(
      left
        ? { label: `${deviceId} backup ${left.seq}`, header: left.at, bytes: this.read(deviceId, left.seq) }
        : { label: '/dev/null', bytes: Buffer.alloc(0) },
      { label: `${deviceId} backup ${right.seq}`, header: right.at, bytes: this.read(deviceId, right.seq) },
      volatile,
    );
  }

  /**
   * Makes a backup the device's own config artifact (what `aps artifact add --device` makes), so the next
   * config request serves it. It is given a serial above the device's other own configs, and when the
   * profile's order or a pin (of the device or its group) would serve another, the device's config slot is
   * pinned to it. Earlier restores that are no longer anyone's target are removed from the catalog.
   * Recorded in the audit log as `backup.restore` by `who`, with the config target and pins before and after.
   */
  async restore(deviceId: string, seq: number, who: string): Promise<ArtifactRecord> {
    const device = this.deps.devices.require(deviceId);
    const before = { config: this.deps.catalog.target(device, 'config')?.id ?? null, pins: device.pins };
    const b = this.require(deviceId, seq);
    const bytes = this.read(deviceId, seq);
    const { catalog, devices } = this.deps;
    const own = catalog.list(device.profile).filter((x) => x.kind === 'config' && x.role === '' && x.deviceId === device.id);
    const serial = Math.max(0, ...own.map((x) => x.serial ?? 0)) + 1;
    const artifact = await catalog.addBuffer(bytes, {
      kind: 'config',
      profile: device.profile,
      deviceId: device.id,
      version: `backup-${seq}`,
      serial,
      filename: isSafeFilename(b.name) ? b.name : `backup-${seq}.cfg`,
      origin: `backup:${seq}`,
    });
    // Whatever the profile's order ranks first (a config with a higher version, a pin of the device or its
    // group), the restored backup must be what the next config request serves: pinned when it is not.
    const current = devices.get(device.id) ?? device;
    if (catalog.target(current, 'config')?.id !== artifact.id) {
      devices.upsert({ id: device.id, pins: { config: artifact.id } }, 'update');
    }
    if (catalog.target(devices.get(device.id) ?? current, 'config')?.id !== artifact.id) {
      throw new ApsError('internal', `backup ${seq} of ${device.id} was added as artifact ${artifact.id} but is not its config target`);
    }
    for (const old of own) {
      if (old.id === artifact.id || !old.origin.startsWith('backup:')) continue;
      try {
        await catalog.remove(old.id);
      } catch (e) {
        if (!isApsError(e) || e.code !== 'conflict') throw e; // still some pin's target: it stays
      }
    }
    this.deps.events.record({
      deviceId: device.id,
      adapter: 'core',
      file: `backup:${seq}`,
      status: 200,
      bytes: bytes.length,
      artifactId: artifact.id,
      detail: `backup ${seq} restored as config artifact ${artifact.id}`,
      seen: false,
    });
    this.deps.log.info({ device: device.id, seq, artifact: artifact.id }, 'backup restored as the device config');
    const after = { config: artifact.id, pins: devices.get(device.id)?.pins ?? {}, backup: seq };
    this.deps.audit.record({ who, action: 'backup.restore', target: device.id, before, after });
    return artifact;
  }

  /** Removes every backup of a device (rows and files): called when the device is removed. */
  removeDevice(deviceId: string): number {
    const n = this.deps.store.backups.removeDevice(deviceId);
    rmSync(this.deviceDir(deviceId), { recursive: true, force: true });
    return n;
  }

  private require(deviceId: string, seq: number): StoredBackup {
    const b = this.deps.store.backups.get(deviceId, seq);
    if (!b) throw new ApsError('not_found', `device ${deviceId} has no backup ${seq}`);
    return b;
  }

  private key(): Buffer {
    return this.deps.keys.key('backup-box');
  }

  /** A device's folder: its id when that is a plain name, else a digest of it (ids never become paths). */
  private deviceDir(deviceId: string): string {
    const safe = SAFE_DIR.test(deviceId) && deviceId !== 'tmp' && !deviceId.startsWith('h-');
    return join(this.root, safe ? deviceId : `h-${createHash('sha256').update(deviceId).digest('hex').slice(0, 32)}`);
  }

  private async receive(
    body: NodeJS.ReadableStream,
    tmp: string,
    deviceId: string,
    limit: number,
  ): Promise<{ sha256: string; size: number }> {
    const seal = new SealStream(this.key(), deviceId, limit);
    // Opened before anything is attached to the body: a stream opening its file lazily could create it
    // after a failed put() has removed it. The body does not flow until it is piped, so nothing is lost.
    const out = (await open(tmp, 'wx', 0o600)).createWriteStream();
    // The body is piped through a PassThrough rather than handed to pipeline(): on a refusal pipeline would
    // destroy it, and with it the socket the caller must answer 413 on.
    const pass = new PassThrough();
    const stopWatching = finished(body, (err) => {
      if (err) pass.destroy(new ApsError('bad_request', `the backup upload ended early (${err.message})`));
    });
    body.pipe(pass);
    try {
      await pipeline(pass, seal, out);
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (e) {
      body.unpipe(pass);
      // Read and drop the rest, so the caller's answer reaches a client that sends before it reads.
      if (isApsError(e) && e.code === 'too_large') body.resume();
      throw e;
    } finally {
      stopWatching();
    }
    return { sha256: seal.sha256(), size: seal.size };
  }

  /** Temp files and files no row names, left by a crash or a kill at any moment of put() or a removal. */
  private removeLeftovers(): void {
    const named = new Set(this.deps.store.backups.allFiles().map((f) => join(this.deviceDir(f.deviceId), f.file)));
    let removed = 0;
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(this.root, entry.name);
      for (const file of readdirSync(dir)) {
        const path = join(dir, file);
        if (named.has(path) || !leftBehind(path, file)) continue;
        rmSync(path, { recursive: true, force: true });
        removed++;
      }
    }
    if (removed > 0) this.deps.log.warn({ removed }, 'removed backup files left by an interrupted upload or removal');
  }
}

function publicRecord(b: StoredBackup): BackupRecord {
  const { file: _file, ...rest } = b;
  return rest;
}

function checkName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ApsError('bad_request', `a backup name must be 1-${NAME_MAX} characters without control characters`);
  }
  return name;
}
