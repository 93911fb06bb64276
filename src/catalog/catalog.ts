import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ApsError } from '../errors.ts';
import { GenerationCache } from '../store/generation-cache.ts';
import {
  ARTIFACT_KINDS,
  type ArtifactKind,
  type ArtifactRecord,
  type DeviceRecord,
  type FleetShared,
  type GroupRecord,
  type Pins,
  type ReleasePolicy,
  type Store,
} from '../store/index.ts';
import type { BlobStore } from './blob-store.ts';
import { pinProblem, slotKey } from './pins.ts';
import { assertServedSlot, type ArtifactSlot } from './slots.ts';
import { compareArtifacts, type ArtifactOrder } from './version-order.ts';

export { slotKey };
export type { ArtifactOrder, ArtifactSlot };

/** What the catalog needs to know of a profile: its order and the slots its adapter serves. */
export interface CatalogPolicy {
  orderOf(profile: string): ArtifactOrder;
  /** undefined: no restriction (an adapter that declares no slots, a profile that is gone). */
  slotsOf(profile: string): readonly ArtifactSlot[] | undefined;
  /** The profile's `release:` (a group's own `release:` overrides it for the group's devices). */
  releaseOf?(profile: string): ReleasePolicy;
}

/**
 * A group's pins and release policy, as target selection reads them (a device request asks several times):
 * the device registry owns groups and keeps them per change generation (src/devices/registry.ts).
 */
export interface GroupLookup {
  group(name: string): Pick<GroupRecord, 'pins' | 'release'> | undefined;
}

const DEFAULT_POLICY: CatalogPolicy = { orderOf: () => 'version', slotsOf: () => undefined };

/** What `aps artifact list` says of an artifact: someone's target, a candidate waiting for a rollout, or neither any more. */
export type ArtifactStatus = 'target' | 'candidate' | 'retired';

/** What rollouts change in target selection, read once per store generation. */
interface RolloutView {
  /** Artifacts released to every device of their profile. */
  released: Set<number>;
  /** device → slot → artifact: the target a running, paused or halted rollout gives it. */
  forced: Map<string, Map<string, number>>;
  /** device → artifacts a completed rollout released to it (a rollout limited to groups). */
  allowed: Map<string, Set<number>>;
  /** device → artifacts it failed in a rollout: never its target again by ranking (no endless re-sends). */
  failed: Map<string, Set<number>>;
}

/** Where an artifact's bytes come from: a local file (streamed) or a buffer. */
export type ArtifactSource = { path: string } | { bytes: Buffer };

export interface AddOutcome {
  artifact: ArtifactRecord;
  /** true: these bytes already filled the slot, and that artifact is returned; nothing was added. */
  existing: boolean;
  /** Why a new artifact will not become anyone's target (a higher one exists, devices are pinned…). */
  warning?: string;
}

/** A device (or `group NAME`) moved off a removed target: `to` is its target after, null when none. */
export interface TargetMove {
  subject: string;
  from: number;
  to: number | null;
}

export interface RetireResult {
  artifact: ArtifactRecord;
  moved: TargetMove[];
}

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
  // Artifacts per profile, re-read only when the store's change generation moves (CLI/API/other node).
  private readonly byProfile: GenerationCache<string, ArtifactRecord[]>;
  private readonly groups: GroupLookup;
  private view: RolloutView | undefined;
  private viewGen = -1;

  private readonly policy: CatalogPolicy;

  constructor(store: Store, blobs: BlobStore, groups: GroupLookup, policy: CatalogPolicy = DEFAULT_POLICY) {
    this.store = store;
    this.blobs = blobs;
    this.groups = groups;
    this.policy = policy;
    this.byProfile = new GenerationCache(() => store.state.generation());
  }

  /** The profile's order (its `order` key; `version` by default). */
  orderOf(profile: string): ArtifactOrder {
    return this.policy.orderOf(profile);
  }

  /** Refuses a kind and role the profile's adapter never serves (checked by add(); apply checks first). */
  assertSlot(profile: string, kind: ArtifactKind, role = ''): void {
    if (role && !/^[a-z0-9-]{1,32}$/.test(role))
      throw new ApsError('bad_request', `role "${role}" must be lower-case letters, digits or "-"`);
    assertServedSlot(profile, this.policy.slotsOf(profile), kind, role);
  }

  /**
   * The one way into the catalog (CLI, API, apply, sources, imports). Bytes that already fill the slot
   * (same sha256, profile, kind, role, device and models) return the artifact that holds them, so the same
   * file added twice never makes two entries; a new artifact that nobody will get says why.
   */
  async add(source: ArtifactSource, input: AddArtifactInput): Promise<AddOutcome> {
    const meta = this.validate(input, input.filename ?? ('path' in source ? basename(source.path) : ''));
    checkSize(meta.kind, 'path' in source ? statSync(source.path).size : source.bytes.length);
    // Content-addressed: writing bytes already stored leaves the same blob.
    const info = 'path' in source ? await this.blobs.putFile(source.path) : await this.blobs.putBuffer(source.bytes);
    const { artifact, existing } = this.store.transaction(() => {
      const same = this.holding(meta, info.sha256);
      if (same) return { artifact: same, existing: true };
      const at = new Date().toISOString();
      const inserted = this.store.artifacts.insert({ ...meta, ...info }, at);
      // Under `release: auto` (profile, and no group overriding it) a new artifact is released at once;
      // otherwise it is a candidate for `release: manual` devices (auto devices take it whatever).
      if (this.releaseOf(meta.profile) === 'auto' && !this.store.devices.groups().some((g) => g.release === 'manual'))
        this.store.rollouts.release(inserted.id, 'added under release: auto', at);
      return { artifact: inserted, existing: false };
    }, 'immediate');
    return existing ? { artifact, existing } : { artifact, existing, warning: this.whyNotTarget(artifact) };
  }

  async addFile(path: string, input: AddArtifactInput): Promise<ArtifactRecord> {
    return (await this.add({ path }, input)).artifact;
  }

  async addBuffer(bytes: Buffer, input: AddArtifactInput & { filename: string }): Promise<ArtifactRecord> {
    return (await this.add({ bytes }, input)).artifact;
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
    return (await this.retire(id, { force: false })).artifact;
  }

  /**
   * Removes an artifact. While it is a target this is refused, unless `force`: then every device and
   * group pinned to it is pinned to the previous artifact of the slot (per the profile's order; unpinned
   * when there is none), devices that had it as the newest fall back to the next one by themselves, and
   * each move is recorded as an event, all in one transaction with the removal.
   */
  async retire(id: number, opts: { force: boolean }): Promise<RetireResult> {
    const a = this.store.artifacts.get(id);
    if (!a) throw new ApsError('not_found', `no artifact ${id}`);
    const slot = slotKey(a.kind, a.role);
    const users = this.devicesTargeting(a);
    // The artifact an active rollout's devices return to when it is aborted (or fail): removing it would
    // leave the abort nothing to restore.
    const returning = this.store.rollouts
      .selectionRows()
      .filter((r) => r.previousId === a.id && (r.state === 'running' || r.state === 'paused' || r.state === 'halted'));
    if (returning.length > 0 && !opts.force) {
      const ids = [...new Set(returning.map((r) => r.rolloutId))].join(', ');
      throw new ApsError(
        'conflict',
        `artifact ${id} is the previous ${slot} target of ${returning.length} devices of rollout ${ids}, which return to it if the rollout is aborted; finish or abort the rollout first, or remove it with --force`,
      );
    }
    if (users.length > 0 && !opts.force) {
      const names = users.slice(0, 5).join(', ') + (users.length > 5 ? `, and ${users.length - 5} more` : '');
      throw new ApsError(
        'conflict',
        `artifact ${id} is the current ${slot} target of ${names}; pin those devices to another artifact, add a newer one, or remove it with --force (they move to the previous artifact of the slot)`,
      );
    }
    const moved = this.store.transaction(() => {
      const order = this.orderOf(a.profile);
      const below = (fitsSubject: (x: ArtifactRecord) => boolean): ArtifactRecord | undefined =>
        this.store.artifacts
          .list(a.profile)
          .filter((x) => x.id !== a.id && x.kind === a.kind && x.role === a.role && fitsSubject(x) && compareArtifacts(x, a, order) < 0)
          .sort((x, y) => compareArtifacts(y, x, order))[0];
      const groupMoves = new Map<string, number | null>();
      for (const g of this.store.devices.groups()) {
        if (g.pins[slot] !== a.id) continue;
        // A group pin is shared: only a shared artifact at least as wide as this one (its models) replaces it.
        const to = below((x) => x.deviceId === null && (x.models.length === 0 || a.models.every((m) => x.models.includes(m))));
        const pins = { ...g.pins };
        if (to) pins[slot] = to.id;
        else delete pins[slot];
        this.store.devices.upsertGroup({ ...g, pins });
        groupMoves.set(g.name, to?.id ?? null);
      }
      const now = new Date().toISOString();
      for (const d of this.store.devices.list()) {
        if (d.pins[slot] !== a.id) continue;
        const to = below((x) => fits(x, d));
        const pins = { ...d.pins };
        if (to) pins[slot] = to.id;
        else delete pins[slot];
        this.store.devices.upsert({ ...d, pins, updatedAt: now });
      }
      this.store.artifacts.remove(a.id);
      const out: TargetMove[] = users.map((subject) => {
        const group = /^group (.+)$/.exec(subject)?.[1];
        if (group !== undefined) return { subject, from: a.id, to: groupMoves.get(group) ?? null };
        const d = this.store.devices.get(subject);
        return { subject, from: a.id, to: (d && this.target(d, a.kind, a.role)?.id) ?? null };
      });
      this.store.state.insertEvents(
        out
          .filter((m) => !m.subject.startsWith('group '))
          .map((m) => ({
            at: now,
            deviceId: m.subject,
            adapter: 'catalog',
            file: slot,
            artifactId: m.to,
            revision: null,
            bytes: 0,
            status: 200,
            ip: null,
            ua: null,
            fault: null,
            detail: `artifact ${a.id} removed with --force: ${slot} target moved to ${m.to === null ? 'nothing (no artifact left for it)' : `artifact ${m.to}`}`,
          })),
      );
      return out;
    }, 'immediate');
    if (this.store.artifacts.countBySha(a.sha256) === 0) await this.blobs.remove(a.sha256);
    return { artifact: a, moved };
  }

  /** Removes a removed device's own artifacts (its config…), so a new device of the same id never inherits them. */
  async removeOwnedBy(deviceId: string): Promise<ArtifactRecord[]> {
    if (this.store.devices.get(deviceId)) throw new ApsError('conflict', `device ${deviceId} still exists`);
    const owned = this.store.artifacts.list().filter((a) => a.deviceId === deviceId);
    for (const a of owned) await this.remove(a.id);
    return owned;
  }

  /** The profile's release policy, `auto` unless its YAML says `release: manual`. */
  releaseOf(profile: string): ReleasePolicy {
    return this.policy.releaseOf?.(profile) ?? 'auto';
  }

  /** A device's release policy: its group's `release:`, else its profile's. */
  releaseFor(device: TargetSubject): ReleasePolicy {
    const g = device.group ? this.groups.group(device.group) : undefined;
    return g?.release ?? this.releaseOf(device.profile);
  }

  /**
   * The artifact a device should have in one slot, or undefined when the catalog has none for it: its pin,
   * else the target a running rollout gave it, else the highest-ranked artifact it may have (under
   * `release: manual` only released ones; never one it failed in a rollout).
   */
  target(device: TargetSubject, kind: ArtifactKind, role = ''): ArtifactRecord | undefined {
    const key = slotKey(kind, role);
    const pinned = this.pinned(device, key);
    if (pinned !== undefined) {
      // Pins are checked when written; this guards what changed since (the device's model or profile),
      // so a stale pin gives the device nothing in that slot rather than a file that is not its own.
      const a = this.store.artifacts.get(pinned);
      return pinProblem(a, key, device) === undefined ? a : undefined;
    }
    const forced = this.rolloutView().forced.get(device.id)?.get(key);
    if (forced !== undefined) {
      const a = this.store.artifacts.get(forced);
      if (a && pinProblem(a, key, device) === undefined) return a;
    }
    const order = this.orderOf(device.profile);
    const manual = this.releaseFor(device) === 'manual';
    let best: ArtifactRecord | undefined;
    for (const a of this.candidates(device.profile)) {
      if (a.kind !== kind || a.role !== role || !fits(a, device) || this.withheld(a, device, manual) !== undefined) continue;
      // A device's own artifact outranks shared ones of the same slot.
      if (!best || rank(a, device) > rank(best, device) || (rank(a, device) === rank(best, device) && compareArtifacts(a, best, order) > 0))
        best = a;
    }
    return best;
  }

  /**
   * The devices whose firmware target depends on more than their profile, model and group (the fleet view
   * computes the target once for all the others): those in a rollout, those with an artifact of their own,
   * and the groups that pin (devices that pin themselves the store sees in their row).
   */
  fleetShared(): FleetShared {
    const view = this.rolloutView();
    const ids = new Set<string>([...view.forced.keys(), ...view.allowed.keys(), ...view.failed.keys()]);
    for (const a of this.store.artifacts.list()) if (a.deviceId !== null) ids.add(a.deviceId);
    const pinnedGroups = this.store.devices
      .groups()
      .filter((g) => Object.keys(g.pins).length > 0)
      .map((g) => g.name);
    return { ids: [...ids], pinnedGroups };
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

  /**
   * For `device show`: each slot whose latest addition fitting the device is not its target, and why
   * (pinned, its own artifact, or another one ranks higher by the profile's order).
   */
  slotNotes(device: TargetSubject): string[] {
    const order = this.orderOf(device.profile);
    const latest = new Map<string, ArtifactRecord>();
    for (const a of this.candidates(device.profile)) {
      if (!fits(a, device)) continue;
      const key = slotKey(a.kind, a.role);
      if ((latest.get(key)?.id ?? -1) < a.id) latest.set(key, a);
    }
    const notes: string[] = [];
    for (const [key, last] of [...latest].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const t = this.target(device, last.kind, last.role);
      if (t?.id === last.id) continue;
      const pin = this.pinned(device, key);
      const withheld = pin === undefined ? this.withheld(last, device, this.releaseFor(device) === 'manual') : undefined;
      const why =
        withheld !== undefined
          ? withheld
          : pin !== undefined
            ? t
              ? `pinned to artifact ${pin}`
              : `pinned to artifact ${pin}, which no longer fits this device`
            : t && t.deviceId === device.id && last.deviceId === null
              ? `the device has its own artifact ${t.id}`
              : `artifact ${t?.id} (${t?.version || 'no version'}) ranks higher by ${order}`;
      notes.push(`${key}: artifact ${last.id} (${last.version || 'no version'}), added last, is not the target: ${why}`);
    }
    return notes;
  }

  /**
   * Each artifact's status for `artifact list`: `target` when some device or group gets it now, else
   * `candidate` while it waits for a rollout (not released under `release: manual`), else `retired`.
   */
  statuses(list: readonly ArtifactRecord[]): Map<number, ArtifactStatus> {
    const targeted = new Set<number>();
    const devices = this.store.devices.list();
    for (const g of this.store.devices.groups()) for (const id of Object.values(g.pins)) targeted.add(id);
    for (const d of devices) for (const a of this.targets(d).values()) targeted.add(a.id);
    const released = this.rolloutView().released;
    const out = new Map<number, ArtifactStatus>();
    for (const a of list) {
      const fitting = devices.some((d) => d.profile === a.profile && fits(a, d));
      // An artifact no device fits yet is the target-to-be when released and nothing ranks higher.
      const toBe = !fitting && released.has(a.id) && this.whyNotTarget(a) === undefined;
      out.set(a.id, targeted.has(a.id) || toBe ? 'target' : released.has(a.id) ? 'retired' : 'candidate');
    }
    return out;
  }

  /** Why a device may not have this artifact by ranking (a candidate, or it failed it), else undefined. */
  private withheld(a: ArtifactRecord, device: TargetSubject, manual: boolean): string | undefined {
    const view = this.rolloutView();
    if (view.failed.get(device.id)?.has(a.id)) return 'it failed on this device in a rollout';
    // A device's own artifact (its config, a restored backup) is an explicit choice for it, never a candidate.
    if (!manual || a.deviceId !== null || view.released.has(a.id) || view.allowed.get(device.id)?.has(a.id)) return undefined;
    return `a candidate under release: manual (start a rollout with aps rollout start ${a.id}, or pin it)`;
  }

  private rolloutView(): RolloutView {
    const gen = this.store.state.generation();
    if (this.view && this.viewGen === gen) return this.view;
    const view: RolloutView = { released: this.store.rollouts.released(), forced: new Map(), allowed: new Map(), failed: new Map() };
    const add = <V>(m: Map<string, V>, k: string, make: () => V): V => {
      let v = m.get(k);
      if (!v) m.set(k, (v = make()));
      return v;
    };
    for (const r of this.store.rollouts.selectionRows()) {
      if (r.status === 'failed') add(view.failed, r.deviceId, () => new Set<number>()).add(r.artifactId);
      else if (r.state === 'completed') add(view.allowed, r.deviceId, () => new Set<number>()).add(r.artifactId);
      else if (r.state !== 'aborted') add(view.forced, r.deviceId, () => new Map<string, number>()).set(r.slot, r.artifactId);
    }
    this.view = view;
    this.viewGen = gen;
    return view;
  }

  /** Why an artifact just added will be nobody's target, or undefined when some device gets it (or may later). */
  private whyNotTarget(a: ArtifactRecord): string | undefined {
    const order = this.orderOf(a.profile);
    const slot = slotKey(a.kind, a.role);
    const head = `artifact ${a.id} will not become anyone's ${slot} target`;
    // First the cheap case: an artifact that ranks higher for every device this one fits (the same owner,
    // models at least as wide), whatever the devices are.
    const higher = this.candidates(a.profile)
      .filter(
        (x) =>
          x.id !== a.id &&
          x.kind === a.kind &&
          x.role === a.role &&
          x.deviceId === a.deviceId &&
          (x.models.length === 0 || (a.models.length > 0 && a.models.every((m) => x.models.includes(m)))) &&
          compareArtifacts(x, a, order) > 0,
      )
      .sort((x, y) => compareArtifacts(y, x, order))[0];
    if (higher) {
      const what = `${higher.version || 'no version'}${higher.serial !== null ? `, serial ${higher.serial}` : ''}`;
      return `${head}: artifact ${higher.id} (${what}) ranks higher by ${order} (profile ${a.profile} orders by ${order})`;
    }
    const fitting = this.store.devices.list().filter((d) => d.profile === a.profile && fits(a, d));
    if (fitting.length === 0) return undefined; // nobody yet: the next device added gets it
    const targets = fitting.map((d) => ({ id: d.id, pinned: this.pinned(d, slot) !== undefined, target: this.target(d, a.kind, a.role) }));
    if (targets.some((t) => t.target?.id === a.id)) return undefined;
    const names = (ids: string[]): string => ids.slice(0, 5).join(', ') + (ids.length > 5 ? `, and ${ids.length - 5} more` : '');
    const pinned = targets.filter((t) => t.pinned).map((t) => t.id);
    if (!this.rolloutView().released.has(a.id) && fitting.some((d) => this.releaseFor(d) === 'manual'))
      return `artifact ${a.id} is a candidate (release: manual): no device gets it until a rollout (aps rollout start ${a.id}) or a pin`;
    if (pinned.length === fitting.length) return `${head}: every device it fits is pinned: ${names(pinned)}`;
    // The others get another artifact: their own, or one for their model that ranks higher.
    const others = targets.filter((t) => !t.pinned).map((t) => `${t.id} gets artifact ${t.target?.id ?? '(none)'}`);
    return `${head}: ${pinned.length ? `pinned: ${names(pinned)}; ` : ''}${names(others)}`;
  }

  /** The artifact already holding these bytes in this slot (profile, kind, role, device, models), if any. */
  /**
   * The artifact that already holds these bytes in this slot (profile, kind, role, device, models): what
   * add() hands back instead of a second entry, and what `aps apply` checks before writing anything.
   */
  holding(
    meta: Pick<ArtifactRecord, 'profile' | 'kind' | 'role' | 'deviceId'> & { models?: readonly string[] },
    sha256: string,
  ): ArtifactRecord | undefined {
    const models = [...new Set(meta.models ?? [])].sort().join(',');
    return this.store.artifacts
      .list(meta.profile)
      .find(
        (x) =>
          x.sha256 === sha256 &&
          x.kind === meta.kind &&
          x.role === meta.role &&
          x.deviceId === meta.deviceId &&
          x.models.join(',') === models,
      );
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
    const group = device.group ? this.groups.group(device.group) : undefined;
    return { ...(group?.pins ?? {}), ...device.pins };
  }

  /** The artifact a device (or its group) pins in a slot. */
  pinned(device: TargetSubject, key: string): number | undefined {
    return device.pins[key] ?? (device.group ? this.groups.group(device.group)?.pins[key] : undefined);
  }

  private candidates(profile: string): ArtifactRecord[] {
    return this.byProfile.get(profile, () => this.store.artifacts.list(profile));
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
    this.assertSlot(input.profile, input.kind, role);
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

/** Whether an artifact is for this device at all: its own or a shared one, for its model. */
export function fits(a: ArtifactRecord, device: TargetSubject): boolean {
  if (a.deviceId !== null && a.deviceId !== device.id) return false;
  return a.models.length === 0 || (device.model !== null && a.models.includes(device.model));
}

function rank(a: ArtifactRecord, device: TargetSubject): number {
  return a.deviceId === device.id ? 1 : 0;
}
