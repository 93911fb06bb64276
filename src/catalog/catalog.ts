import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ApsError } from '../errors.ts';
import { ARTIFACT_KINDS, type ArtifactKind, type ArtifactRecord, type DeviceRecord, type Pins, type Store } from '../store/index.ts';
import type { BlobStore } from './blob-store.ts';
import { pinProblem, slotKey } from './pins.ts';
import { compareArtifacts } from './version-order.ts';

export { slotKey };

export interface AddArtifactInput {
  kind: ArtifactKind;
  profile: string;
  models?: string[];
  role?: string;
  deviceId?: string | null;
  version?: string;
  serial?: number | null;
  /** The name devices see (defaults to the source file's base name). */
  filename?: string;
  origin?: string;
}

/** What target selection needs to know of a device. */
export type TargetSubject = Pick<DeviceRecord, 'id' | 'profile' | 'model' | 'group' | 'pins'>;

/** Config artifacts are read whole to render and digest per request; larger ones are refused when added. */
const CONFIG_MAX_BYTES = 4 * 1024 * 1024;

/** Refuses an artifact the catalog could not serve for its kind (a config too large to render). */
export function checkSize(kind: ArtifactKind, size: number): void {
  if (kind === 'config' && size > CONFIG_MAX_BYTES) {
    throw new ApsError(
      'too_large',
      `a config artifact may be at most ${CONFIG_MAX_BYTES} bytes (this one is ${size}); firmware and aux files have no such limit`,
    );
  }
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** Whether a name is acceptable as an artifact file name; lets callers skip a file before fetching it. */
export function isSafeFilename(name: string): boolean {
  return SAFE_NAME.test(name);
}

export function assertKind(kind: string): ArtifactKind {
  if (!(ARTIFACT_KINDS as readonly string[]).includes(kind)) {
    throw new ApsError('bad_request', `kind must be one of ${ARTIFACT_KINDS.join(', ')}, not "${kind}"`);
  }
  return kind as ArtifactKind;
}

/** The artifact catalog: adding, removing and choosing each device's target artifacts. */
export class Catalog {
  private readonly store: Store;
  readonly blobs: BlobStore;
  private cacheGen = -1;
  private byProfile = new Map<string, ArtifactRecord[]>();

  constructor(store: Store, blobs: BlobStore) {
    this.store = store;
    this.blobs = blobs;
  }

  async addFile(path: string, input: AddArtifactInput): Promise<ArtifactRecord> {
    const meta = this.validate(input, input.filename ?? basename(path));
    checkSize(meta.kind, statSync(path).size);
    const info = await this.blobs.putFile(path);
    return this.store.artifacts.insert({ ...meta, ...info }, new Date().toISOString());
  }

  async addBuffer(bytes: Buffer, input: AddArtifactInput & { filename: string }): Promise<ArtifactRecord> {
    const meta = this.validate(input, input.filename);
    checkSize(meta.kind, bytes.length);
    const info = await this.blobs.putBuffer(bytes);
    return this.store.artifacts.insert({ ...meta, ...info }, new Date().toISOString());
  }

  /** The bytes of a small artifact (a config file) for rendering; large ones are streamed, never read whole. */
  readSmall(a: ArtifactRecord, maxBytes = CONFIG_MAX_BYTES): Buffer {
    if (a.size > maxBytes) throw new ApsError('too_large', `artifact ${a.id} is ${a.size} bytes, more than ${maxBytes} can be rendered`);
    return readFileSync(this.blobs.pathOf(a.sha256));
  }

  get(id: number): ArtifactRecord | undefined {
    return this.store.artifacts.get(id);
  }

  list(profile?: string): ArtifactRecord[] {
    return this.store.artifacts.list(profile);
  }

  /** Refuses to remove an artifact some device would receive now (pinned or newest). */
  async remove(id: number): Promise<ArtifactRecord> {
    const a = this.store.artifacts.get(id);
    if (!a) throw new ApsError('not_found', `no artifact ${id}`);
    const users = this.devicesTargeting(a);
    if (users.length > 0) {
      const names = users.slice(0, 5).join(', ') + (users.length > 5 ? `, and ${users.length - 5} more` : '');
      throw new ApsError(
        'conflict',
        `artifact ${id} is the current ${slotKey(a.kind, a.role)} target of ${names}; pin those devices to another artifact or add a newer one first`,
      );
    }
    this.store.artifacts.remove(id);
    if (this.store.artifacts.countBySha(a.sha256) === 0) await this.blobs.remove(a.sha256);
    return a;
  }

  /** Removes a removed device's own artifacts (its config…), so a new device of the same id never inherits them. */
  async removeOwnedBy(deviceId: string): Promise<ArtifactRecord[]> {
    if (this.store.devices.get(deviceId)) throw new ApsError('conflict', `device ${deviceId} still exists`);
    const owned = this.store.artifacts.list().filter((a) => a.deviceId === deviceId);
    for (const a of owned) await this.remove(a.id);
    return owned;
  }

  /** The artifact a device should have in one slot, or undefined when the catalog has none for it. */
  target(device: TargetSubject, kind: ArtifactKind, role = ''): ArtifactRecord | undefined {
    const key = slotKey(kind, role);
    const pinned = this.pinned(device, key);
    if (pinned !== undefined) {
      // Pins are checked when written; this guards what changed since (the device's model or profile),
      // so a stale pin gives the device nothing in that slot rather than a file that is not its own.
      const a = this.store.artifacts.get(pinned);
      return pinProblem(a, key, device) === undefined ? a : undefined;
    }
    let best: ArtifactRecord | undefined;
    for (const a of this.candidates(device.profile)) {
      if (a.kind !== kind || a.role !== role || !fits(a, device)) continue;
      // A device's own artifact outranks shared ones of the same slot.
      if (!best || rank(a, device) > rank(best, device) || (rank(a, device) === rank(best, device) && compareArtifacts(a, best) > 0))
        best = a;
    }
    return best;
  }

  /** Every slot the device has a target in, keyed by slot (`firmware`, `aux:cpt`, ...). */
  targets(device: TargetSubject): Map<string, ArtifactRecord> {
    const out = new Map<string, ArtifactRecord>();
    const slots = new Set<string>(Object.keys(this.effectivePins(device)));
    for (const a of this.candidates(device.profile)) if (fits(a, device)) slots.add(slotKey(a.kind, a.role));
    for (const s of [...slots].sort()) {
      const [kind, role = ''] = s.split(':') as [ArtifactKind, string?];
      const t = this.target(device, kind, role);
      if (t) out.set(s, t);
    }
    return out;
  }

  private devicesTargeting(a: ArtifactRecord): string[] {
    const ids = new Set(this.store.devices.pinnedTo(a.id).map((d) => d.id));
    // A group's pin counts even while the group has no device: the next device added to it would get it.
    for (const g of this.store.devices.groups()) if (Object.values(g.pins).includes(a.id)) ids.add(`group ${g.name}`);
    for (const d of this.store.devices.list()) {
      if (d.profile === a.profile && this.target(d, a.kind, a.role)?.id === a.id) ids.add(d.id);
    }
    return [...ids].sort();
  }

  private effectivePins(device: TargetSubject): Pins {
    const group = device.group ? this.store.devices.group(device.group) : undefined;
    return { ...(group?.pins ?? {}), ...device.pins };
  }

  private pinned(device: TargetSubject, key: string): number | undefined {
    return device.pins[key] ?? (device.group ? this.store.devices.group(device.group)?.pins[key] : undefined);
  }

  // Artifacts per profile, re-read only when the store's change generation moves (CLI/API/other node).
  private candidates(profile: string): ArtifactRecord[] {
    const gen = this.store.state.generation();
    if (gen !== this.cacheGen) {
      this.byProfile = new Map();
      this.cacheGen = gen;
    }
    let list = this.byProfile.get(profile);
    if (!list) {
      list = this.store.artifacts.list(profile);
      this.byProfile.set(profile, list);
    }
    return list;
  }

  private validate(input: AddArtifactInput, filename: string): Omit<ArtifactRecord, 'id' | 'addedAt' | 'sha256' | 'md5' | 'size'> {
    assertKind(input.kind);
    if (!input.profile) throw new ApsError('bad_request', 'an artifact needs a profile');
    if (!SAFE_NAME.test(filename)) {
      throw new ApsError(
        'bad_request',
        `file name "${filename}" must be 1-128 characters of letters, digits, "._+-", starting with a letter or digit`,
      );
    }
    if (input.serial != null && (!Number.isSafeInteger(input.serial) || input.serial < 0)) {
      throw new ApsError('bad_request', `serial must be a non-negative integer, not ${input.serial}`);
    }
    if (input.deviceId) {
      const owner = this.store.devices.get(input.deviceId);
      if (!owner) throw new ApsError('not_found', `no device ${input.deviceId}`);
      if (owner.profile !== input.profile)
        throw new ApsError('bad_request', `device ${input.deviceId} uses profile ${owner.profile}, not ${input.profile}`);
    }
    const role = input.role ?? '';
    if (role && !/^[a-z0-9-]{1,32}$/.test(role))
      throw new ApsError('bad_request', `role "${role}" must be lower-case letters, digits or "-"`);
    return {
      kind: input.kind,
      profile: input.profile,
      models: [...new Set(input.models ?? [])].sort(),
      role,
      deviceId: input.deviceId ?? null,
      version: input.version ?? '',
      serial: input.serial ?? null,
      filename,
      origin: input.origin ?? 'upload',
    };
  }
}

function fits(a: ArtifactRecord, device: TargetSubject): boolean {
  if (a.deviceId !== null && a.deviceId !== device.id) return false;
  return a.models.length === 0 || (device.model !== null && a.models.includes(device.model));
}

function rank(a: ArtifactRecord, device: TargetSubject): number {
  return a.deviceId === device.id ? 1 : 0;
}
