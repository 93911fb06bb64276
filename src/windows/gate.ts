// The maintenance-window gate (README "Maintenance windows"). Target selection (the catalog, with pins and
// rollouts) says what a device should have; this says whether it may have it *now*. Outside its window a
// device keeps what it holds: the artifact it last fetched completely in each slot, and the bytes of each
// rendered file it was last given. Keeping the rendered bytes (rather than rendering again against the
// held targets) is what keeps a file byte-identical: a variable, a template or a group edited outside the
// window would otherwise change it, and with it its serial, ETag and Last-Modified.
// Vendor-blind: adapters reach it only through the catalog reader and rendered files of their services.
// Rendered bytes hold secrets (SIP passwords): they are kept only for a device that has a window, sealed
// with the keyring as device secrets are, and written without waiting for another process's write lock.
import { GenerationCache } from '../store/generation-cache.ts';
import type { ArtifactRecord, Store } from '../store/index.ts';
import type { TargetSubject } from '../catalog/catalog.ts';
import { slotKey } from '../catalog/pins.ts';
import type { Clock } from '../clock.ts';
import type { Profile } from '../profiles/profiles.ts';
import { DeferredWrites, LOCKED, unlessLocked } from '../store/deferred-writes.ts';
import { describeWindow, parseWindow, type WindowDef } from './window-def.ts';
import { localHhmm, windowHours, windowTimes, type WindowTimes } from './window-time.ts';

/**
 * fresh: offer the current target (no window, window open, or a new device);
 * hold: offer what the device holds; wait: a new device whose window says `newDevices: wait`.
 */
export type GateMode = 'fresh' | 'hold' | 'wait';

/** A device's window as adapters and `device show` see it (vendor-blind data). */
export interface DeviceWindow {
  source: 'profile' | 'group';
  description: string;
  tz: string;
  open: boolean;
  /** ISO times: the end of the open occurrence, and the start of the next one. */
  closesAt: string | null;
  nextStart: string | null;
  /** Local hours (0-23, in `tz`) during which the window is open at some minute. */
  hours: number[];
  /** 'hh:mm' in `tz`: when the open (else the next) occurrence starts, for a device's daily check. */
  startTime: string | null;
  /** How long that occurrence lasts, in whole minutes. */
  minutes: number | null;
  newDevices: 'serve' | 'wait';
  push: boolean;
}

type WindowSubject = Pick<TargetSubject, 'id' | 'profile' | 'group'>;

/** Seals held rendered bytes (src/devices/secrets.ts Keyring): nothing held is in clear in the database. */
export interface HeldSealer {
  sealBytes(plain: Buffer): Buffer;
  openBytes(box: Buffer): Buffer | undefined;
}

const artifactKey = (slot: string): string => `slot:${slot}`;
const fileKey = (file: string): string => `file:${file}`;

export class WindowGate {
  private readonly store: Store;
  private readonly profile: (name: string) => Profile | undefined;
  private readonly artifact: (id: number) => ArtifactRecord | undefined;
  readonly clock: Clock;
  private readonly isDevice: (id: string) => boolean;
  /** Each group's window (null: none), read once per change generation. */
  private readonly groups: GenerationCache<string, WindowDef | null>;
  private readonly times = new WeakMap<WindowDef, { from: number; until: number; times: WindowTimes; hours: number[] }>();
  private readonly profiles: () => Profile[];
  private readonly sealer: HeldSealer;
  /**
   * Last sha256 written per device and file: a poll that renders the same bytes writes nothing. Forgotten
   * at each change generation (a removed device's rows go with it; one of the same id starts afresh).
   */
  private heldSha = new Map<string, string>();
  private heldGen = -1;
  /** Completed fetches another process's write lock kept from being recorded: written by a timer. */
  private readonly unwritten: DeferredWrites<{ deviceId: string; key: string; artifactId: number; sha256: string }>;

  constructor(
    store: Store,
    profiles: { get(name: string): Profile | undefined; list(): Profile[] },
    artifact: (id: number) => ArtifactRecord | undefined,
    isDevice: (id: string) => boolean,
    clock: Clock,
    sealer: HeldSealer,
  ) {
    this.sealer = sealer;
    this.isDevice = isDevice;
    this.store = store;
    this.groups = new GenerationCache(() => store.state.generation());
    this.profile = (name) => profiles.get(name);
    this.profiles = () => profiles.list();
    this.artifact = artifact;
    this.clock = clock;
    // Only fetches of devices sit here; one removed meanwhile (by the CLI too) is not written: a new device
    // of its id must be new. (Rows of files a model shares have owners that are no device: not this path.)
    this.unwritten = new DeferredWrites(store, 'window fetches', (f) => {
      if (this.isDevice(f.deviceId)) this.hold(f.deviceId, f.key, f.artifactId, f.sha256, null);
    });
  }

  /** The window that applies: the group's, else the profile's; undefined when changes go out at once. */
  definitionOf(subject: Pick<TargetSubject, 'profile' | 'group'>): { def: WindowDef; source: 'profile' | 'group' } | undefined {
    const g = subject.group ? this.groupWindow(subject.group) : undefined;
    if (g) return { def: g, source: 'group' };
    const p = this.profile(subject.profile)?.window;
    return p ? { def: p, source: 'profile' } : undefined;
  }

  /** Open or not, and when next, at the clock's now; computed again only when a boundary passes. */
  timesOf(def: WindowDef, now = this.clock.now()): WindowTimes {
    return this.computed(def, now).times;
  }

  private computed(def: WindowDef, now: number): { times: WindowTimes; hours: number[] } {
    const hit = this.times.get(def);
    if (hit && now >= hit.from && now < hit.until) return hit;
    const times = windowTimes(def, now);
    const until = Math.min(times.closesAt?.getTime() ?? Infinity, times.nextStart?.getTime() ?? Infinity, now + 3_600_000);
    const entry = { from: now, until, times, hours: windowHours(def, now) };
    this.times.set(def, entry);
    return entry;
  }

  /**
   * What a cached rendered file depends on besides the store's generation: the device's gate mode and its
   * window's daily start (render input); for a file shared by many devices, every profile window's state.
   * A window opening changes what the catalog reader offers without any write, so caches must see it.
   */
  cacheToken(device: WindowSubject | undefined): string {
    if (!device) {
      return this.profiles()
        .filter((p) => p.window)
        .map((p) => (this.timesOf(p.window!).open ? '1' : '0'))
        .join('');
    }
    const w = this.definitionOf(device);
    return w ? `${this.mode(device)}|${this.view(device)?.startTime}` : '';
  }

  view(subject: Pick<TargetSubject, 'profile' | 'group'>): DeviceWindow | undefined {
    const w = this.definitionOf(subject);
    if (!w) return undefined;
    const { times: t, hours } = this.computed(w.def, this.clock.now());
    return {
      source: w.source,
      description: describeWindow(w.def),
      tz: w.def.tz,
      open: t.open,
      closesAt: t.closesAt?.toISOString() ?? null,
      nextStart: t.nextStart?.toISOString() ?? null,
      hours,
      startTime: t.aimStart ? localHhmm(t.aimStart, w.def.tz) : null,
      minutes: t.aimStart && t.aimEnd ? Math.floor((t.aimEnd.getTime() - t.aimStart.getTime()) / 60_000) : null,
      newDevices: w.def.newDevices,
      push: w.def.push,
    };
  }

  /**
   * A device is new until its window has closed once since it first held anything: its first provisioning
   * (config, then firmware, possibly minutes apart) is never cut in half by the window.
   */
  mode(subject: WindowSubject): GateMode {
    const w = this.definitionOf(subject);
    if (!w) return 'fresh';
    const t = this.timesOf(w.def);
    if (t.open) return 'fresh';
    const first = this.store.windows.firstHeldAt(subject.id);
    const isNew = first === undefined || t.lastClose === null || Date.parse(first) >= t.lastClose.getTime();
    if (!isNew) return 'hold';
    return w.def.newDevices === 'wait' ? 'wait' : 'fresh';
  }

  /**
   * What a device is offered in one slot: the target inside its window (or when new), else what it holds
   * (nothing when it holds nothing there, or its artifact was removed). A subject that is not a device (a
   * file shared by a whole model) holds what it was last offered, per model.
   */
  offered(subject: TargetSubject, slot: string, target: ArtifactRecord | undefined): ArtifactRecord | undefined {
    if (!this.definitionOf(subject)) return target;
    const mode = this.mode(subject);
    const shared = !this.isDevice(subject.id);
    const key = shared ? `${artifactKey(slot)}@${subject.model ?? ''}` : artifactKey(slot);
    if (mode === 'fresh') {
      if (shared && target) this.noteOffered(subject.id, key, target);
      return target;
    }
    if (mode === 'wait') return undefined;
    const held = this.heldArtifact(subject.id, key);
    if (!held || held.artifactId === null) return undefined;
    if (target && target.id === held.artifactId) return target;
    return this.artifact(held.artifactId);
  }

  offeredTargets(subject: TargetSubject, targets: Map<string, ArtifactRecord>): Map<string, ArtifactRecord> {
    if (this.mode(subject) === 'fresh') return targets;
    const out = new Map<string, ArtifactRecord>();
    const slots = new Set([...targets.keys(), ...this.heldSlots(subject.id)]);
    for (const slot of [...slots].sort()) {
      const a = this.offered(subject, slot, targets.get(slot));
      if (a) out.set(slot, a);
    }
    return out;
  }

  /**
   * The bytes of a rendered file a device holds, to answer with outside its window; undefined when none are
   * kept (dropped by migration 9, or sealed under another data/secret.key).
   */
  heldFile(deviceId: string, file: string): Buffer | undefined {
    const box = this.store.windows.held(deviceId, fileKey(file))?.bytes;
    return box ? this.sealer.openBytes(box) : undefined;
  }

  /**
   * A rendered file given to a device (inside its window, or new): what it holds from now on. Kept only
   * for a device that has a window (the bytes are what it is answered with outside it), sealed. A write
   * another process's lock would delay is skipped rather than waited for: the next poll writes it.
   */
  noteRendered(device: WindowSubject, file: string, bytes: Buffer, sha256: string): void {
    if (!this.definitionOf(device)) return;
    const key = `${device.id}\0${file}`;
    if (this.memo().get(key) === sha256) return;
    const held = this.store.windows.held(device.id, fileKey(file));
    if (held?.sha256 !== sha256 || !held.bytes) {
      if (!this.holdWithoutWaiting(device.id, fileKey(file), null, sha256, this.sealer.sealBytes(bytes))) return;
    }
    this.remember(key, sha256);
  }

  /** What a file shared by a model was offered (there is no device to fetch it): held from now on. */
  private noteOffered(owner: string, key: string, a: ArtifactRecord): void {
    const memo = `${owner}\0${key}`;
    if (this.memo().get(memo) === a.sha256) return;
    if (this.store.windows.held(owner, key)?.artifactId !== a.id && !this.holdWithoutWaiting(owner, key, a.id, a.sha256, null)) return;
    this.remember(memo, a.sha256);
  }

  /** Notes a written sha256 in the memo, bounded: the oldest entry goes first (a site runs for years). */
  private remember(key: string, sha256: string): void {
    const memo = this.memo();
    if (memo.size >= 50_000) memo.delete(memo.keys().next().value!);
    memo.set(key, sha256);
  }

  /** An artifact a device fetched completely: what it holds in that slot from now on. */
  noteFetched(deviceId: string, a: ArtifactRecord): void {
    const key = artifactKey(slotKey(a.kind, a.role));
    this.unwritten.forget(`${deviceId}\0${key}`);
    if (this.store.windows.held(deviceId, key)?.artifactId === a.id) return;
    // Never wait for another process's write lock here (every device request would wait with it): a fetch
    // the lock keeps out is written by a timer as soon as the lock is free.
    if (!this.holdWithoutWaiting(deviceId, key, a.id, a.sha256, null))
      this.unwritten.defer(`${deviceId}\0${key}`, { deviceId, key, artifactId: a.id, sha256: a.sha256 });
  }

  /** The device was removed: its fetches a lock kept out are not written later (a new device of its id is new). */
  forgetDevice(deviceId: string): void {
    this.unwritten.forgetIf((f) => f.deviceId === deviceId);
  }

  /** Records the fetches a lock kept out; `wait` (shutdown) waits for the lock. */
  flush(wait = false): void {
    this.unwritten.flush(wait);
  }

  /**
   * Slots whose target the device does not hold (another artifact, or none yet in a slot it never
   * fetched): what it will be offered when its window opens. A device that holds nothing has nothing
   * pending: it is served at once.
   */
  pendingSlots(subject: TargetSubject, targets: Map<string, ArtifactRecord>): string[] {
    if (this.store.windows.firstHeldAt(subject.id) === undefined) return [];
    const out: string[] = [];
    for (const [slot, a] of targets) {
      if (this.heldArtifact(subject.id, artifactKey(slot))?.artifactId !== a.id) out.push(slot);
    }
    return out;
  }

  /** Whether these fresh bytes differ from the rendered file the device holds (it holds one). */
  fileDiffers(deviceId: string, file: string, sha256: string): boolean {
    const held = this.store.windows.held(deviceId, fileKey(file));
    return held !== undefined && held.sha256 !== sha256;
  }

  private memo(): Map<string, string> {
    const gen = this.store.state.generation();
    if (gen !== this.heldGen) {
      this.heldSha = new Map();
      this.heldGen = gen;
    }
    return this.heldSha;
  }

  private heldSlots(deviceId: string): string[] {
    const keys = new Set(this.store.windows.heldAll(deviceId).map((h) => h.key));
    for (const f of this.unwritten.values()) if (f.deviceId === deviceId) keys.add(f.key);
    return [...keys].filter((k) => k.startsWith('slot:') && !k.includes('@')).map((k) => k.slice('slot:'.length));
  }

  /** What a device holds in a slot: a fetch a lock kept from being written first (it is the newer), else the store's. */
  private heldArtifact(deviceId: string, key: string): { artifactId: number | null } | undefined {
    return this.unwritten.get(`${deviceId}\0${key}`) ?? this.store.windows.held(deviceId, key);
  }

  private hold(deviceId: string, key: string, artifactId: number | null, sha256: string, bytes: Buffer | null): void {
    this.store.windows.putHeld({ deviceId, key, artifactId, sha256, bytes, at: new Date(this.clock.now()).toISOString() });
  }

  /** hold() from a device request: false when another process holds the write lock (tried again next poll). */
  private holdWithoutWaiting(deviceId: string, key: string, artifactId: number | null, sha256: string, bytes: Buffer | null): boolean {
    return unlessLocked(this.store, () => this.hold(deviceId, key, artifactId, sha256, bytes)) !== LOCKED;
  }

  /** A group's own window (`window:` on the group in an apply file), overriding its devices' profiles'. */
  groupWindowOf(name: string): WindowDef | undefined {
    return this.groupWindow(name);
  }

  /** Sets (validated by the caller with parseWindow) or removes (undefined) a group's window. */
  setGroupWindow(name: string, def: WindowDef | undefined): void {
    this.store.windows.setGroupWindow(name, def);
  }

  private groupWindow(name: string): WindowDef | undefined {
    const w = this.groups.get(name, () => {
      const raw = this.store.windows.groupWindow(name);
      // Checked when written (aps apply); a row that no longer parses means no window rather than a failing poll.
      try {
        return raw === undefined ? null : parseWindow(raw, `group ${name}`, 'bad_request');
      } catch {
        return null;
      }
    });
    return w ?? undefined;
  }
}
