import { pinProblem, type PinSubject } from '../catalog/pins.ts';
import pLimit from 'p-limit';
import { ApsError } from '../errors.ts';
import { GenerationCache } from '../store/generation-cache.ts';
import type { DeviceRecord, DeviceScan, DeviceStateRecord, GroupRecord, Pins, StateUpdate, Store, Vars } from '../store/index.ts';
import { normalizeMac } from './mac.ts';
import { hasUnsealed, openVars, sealVars } from './secret-vars.ts';
import {
  hashPassword,
  passwordHashScheme,
  secretsEqual,
  verifyKeyedHash,
  verifyScryptHash,
  verifyScryptHashSync,
  type Keyring,
} from './secrets.ts';

export interface DeviceInput {
  id: string;
  profile?: string;
  model?: string | null;
  mac?: string | null;
  group?: string | null;
  /** Clear password; stored hashed, and encrypted too when the protocol needs the clear secret. */
  password?: string | null;
  /** Merged into the device's variables; a value of null removes the key. */
  vars?: Record<string, string | null>;
  /** Merged into the pins; null removes a pin. */
  pins?: Record<string, number | null>;
  status?: 'active' | 'pending';
  /** Stored credentials computed ahead by prepareCredentials(); when set, `password` is not hashed again. */
  credentials?: { passwordHash: string | null; passwordEnc: string | null };
}

export interface RegistryOptions {
  /** Whether the profile's protocol needs the clear secret (HTTP Digest, credentials written into files). */
  needsClearSecret(profile: string): boolean;
  /** Throws when the profile does not exist, or names its models and `model` is not one of them. */
  assertProfile(profile: string, model: string | null): void;
  credentialCacheMs: number;
  /** The device's adapter checks its identity (e.g. an AudioCodes device needs a MAC) before it is stored. */
  validate?(device: DeviceRecord): void;
  /**
   * What the device reported that is queued but not written yet (the event sink writes on a timer, and
   * not at all while another process holds the lock): `state()` reads through it, so a URL or version a
   * device has just reported is what the server acts on.
   */
  queuedState?(id: string): StateUpdate | undefined;
  /** A device was removed: what is queued for it in memory (state, held fetches) is dropped, not written later. */
  removed?(id: string): void;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
const VAR_RE = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;
const CACHE_MAX = 100_000;
// Legacy scrypt hashes (until each device's first successful login rewrites it as a keyed hash) share
// libuv's thread pool (4 threads) with every file read of every download: at most two checks run at once,
// so a flood of wrong passwords queues behind itself instead of stalling firmware.
const SCRYPT_AT_ONCE = 2;
// A wrong password tried again within this time is refused from memory, without another scrypt run.
const FAILURE_MEMORY_MS = 60_000;

/** Devices: identity, credentials, variables, pins, and what they last reported. */
export class DeviceRegistry {
  private readonly store: Store;
  private readonly keys: Keyring;
  private readonly opts: RegistryOptions;
  // HMAC(device, password, stored hash) -> expiry, for legacy scrypt hashes only: a verified credential is
  // remembered for a bounded time so a device polling every few seconds never costs an scrypt run.
  private readonly verified = new Map<string, number>();
  private readonly failed = new Map<string, number>();
  private readonly scryptSlots = pLimit(SCRYPT_AT_ONCE);
  private readonly hashStats = { checked: 0, hashed: 0, running: 0, peakRunning: 0 };
  // What the store held at one change generation (any device or group write bumps it), opened.
  private readonly byId: GenerationCache<string, DeviceRecord | undefined>;
  private readonly byMac: GenerationCache<string, DeviceRecord | undefined>;
  private readonly groupByName: GenerationCache<string, GroupRecord | undefined>;
  // A sealed stand-in password: refusing an unknown device of a clear-secret protocol decrypts it.
  private readonly unknownBox: string;
  // A keyed stand-in hash: refusing an unknown user of a hashed-password protocol checks against it, so
  // "no such user" costs what "wrong password" costs (no timing oracle).
  private readonly unknownHash: string;

  constructor(store: Store, keys: Keyring, opts: RegistryOptions) {
    this.store = store;
    this.keys = keys;
    this.opts = opts;
    this.unknownBox = keys.encrypt('unknown-device-stand-in');
    this.unknownHash = hashPassword(keys, 'unknown-device-stand-in');
    const generation = (): number => store.state.generation();
    this.byId = new GenerationCache(generation, CACHE_MAX);
    this.byMac = new GenerationCache(generation, CACHE_MAX);
    this.groupByName = new GenerationCache(generation);
  }

  /** A device by id; served from memory while the change generation stands (device writes bump it). */
  get(id: string): DeviceRecord | undefined {
    return this.byId.get(id, () => this.opened(this.store.devices.get(id)));
  }

  /** A device by id, or a not_found error naming it (CLI commands and the admin API). */
  require(id: string): DeviceRecord {
    const d = this.get(id);
    if (!d) throw new ApsError('not_found', `no device ${id}`);
    return d;
  }

  /** A device by MAC; from memory while the change generation stands, as `get` (a gateway's every request asks). */
  getByMac(mac: string): DeviceRecord | undefined {
    const m = normalizeMac(mac);
    return m ? this.byMac.get(m, () => this.opened(this.store.devices.getByMac(m))) : undefined;
  }

  list(): DeviceRecord[] {
    return this.store.devices.list().map((d) => this.opened(d));
  }

  /** How many devices each profile has (one query: metrics scrape it with 100,000 devices). */
  countByProfile(): Array<{ profile: string; count: number }> {
    return this.store.devices.countByProfile();
  }

  /** How many devices (of the profiles `ofProfile` accepts) wait for approval: one indexed query. */
  countPending(ofProfile: (profile: string) => boolean = () => true): number {
    return this.store.devices.countPendingByProfile().reduce((n, r) => (ofProfile(r.profile) ? n + r.count : n), 0);
  }

  state(id: string): DeviceStateRecord | undefined {
    return this.store.devices.state(id, this.opts.queuedState?.(id));
  }

  /** Devices in id order matching SQL filters, with their state (see DeviceQueries.scan); unopened records. */
  *scan(f: DeviceScan): Generator<{ device: DeviceRecord; state: DeviceStateRecord | undefined }> {
    yield* this.store.devices.scan(f);
  }

  /** The record with its secrets opened, as `get` returns it. */
  open(d: DeviceRecord): DeviceRecord {
    return this.opened(d);
  }

  /** Every device's state (last seen, reported, fetched), for lists. */
  states(): DeviceStateRecord[] {
    return this.store.devices.states();
  }

  /** A group by name; from memory while the change generation stands (group writes bump it). */
  group(name: string): GroupRecord | undefined {
    return this.groupByName.get(name, () => this.opened(this.store.devices.group(name)));
  }

  groups(): GroupRecord[] {
    return this.store.devices.groups().map((g) => this.opened(g));
  }

  upsertGroup(g: GroupRecord): void {
    if (!ID_RE.test(g.name)) throw new ApsError('bad_request', `group name "${g.name}" is not valid`);
    for (const k of Object.keys(g.vars)) checkVarName(k);
    this.checkPins(g.pins, {}, `group ${g.name}`);
    this.store.devices.upsertGroup({ ...g, vars: sealVars(this.keys, g.vars, this.store.devices.group(g.name)?.vars) });
  }

  /** Adds or updates a device. `create` refuses an existing id; otherwise a missing id is refused. */
  upsert(input: DeviceInput, mode: 'create' | 'update' | 'upsert' = 'upsert'): DeviceRecord {
    if (!ID_RE.test(input.id)) {
      throw new ApsError(
        'bad_request',
        `device id "${input.id}" must be 1-128 characters of letters, digits, "._@+-", starting with a letter or digit`,
      );
    }
    const stored = this.store.devices.get(input.id);
    const prev = this.opened(stored);
    if (prev && mode === 'create') throw new ApsError('conflict', `device ${input.id} already exists (use "device set")`);
    if (!prev && mode === 'update') throw new ApsError('not_found', `no device ${input.id}`);
    const profile = input.profile ?? prev?.profile;
    if (!profile) throw new ApsError('bad_request', `device ${input.id} needs a profile`);
    let mac = prev?.mac ?? null;
    if (input.mac !== undefined) {
      mac = input.mac === null || input.mac === '' ? null : normalizeMac(input.mac);
      if (input.mac && !mac) throw new ApsError('bad_request', `"${input.mac}" is not a MAC address`);
      const other = mac ? this.store.devices.getByMac(mac) : undefined;
      if (other && other.id !== input.id) throw new ApsError('conflict', `MAC ${mac} already belongs to device ${other.id}`);
    }
    const now = new Date().toISOString();
    const d: DeviceRecord = {
      id: input.id,
      profile,
      model: input.model !== undefined ? input.model || null : (prev?.model ?? null),
      mac,
      group: input.group !== undefined ? input.group || null : (prev?.group ?? null),
      passwordHash: prev?.passwordHash ?? null,
      passwordEnc: prev?.passwordEnc ?? null,
      vars: merge<string>(prev?.vars ?? {}, input.vars, checkVarName),
      pins: merge<number>(prev?.pins ?? {}, input.pins, checkPinKey),
      status: input.status ?? prev?.status ?? 'active',
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
    };
    if (!prev || prev.profile !== d.profile || prev.model !== d.model) this.opts.assertProfile(profile, d.model);
    this.checkPins(d.pins, d, `device ${d.id}`);
    this.opts.validate?.(d);
    if (
      prev &&
      prev.profile !== d.profile &&
      d.passwordHash &&
      !d.passwordEnc &&
      input.password === undefined &&
      !input.credentials &&
      this.opts.needsClearSecret(profile)
    ) {
      // The new profile's protocol needs the clear password (Digest), which a hash cannot give back.
      throw new ApsError(
        'bad_request',
        `device ${d.id}: profile ${profile} needs the clear password; give --password again with the new profile`,
      );
    }
    if (input.credentials) {
      d.passwordHash = input.credentials.passwordHash;
      d.passwordEnc = input.credentials.passwordEnc;
    } else if (input.password !== undefined && !(input.password && this.keepsPassword(prev, profile, input.password))) {
      d.passwordHash = input.password ? hashPassword(this.keys, input.password) : null;
      d.passwordEnc = input.password && this.opts.needsClearSecret(profile) ? this.keys.encrypt(input.password) : null;
    }
    if (!sameDevice(prev, d)) this.store.devices.upsert({ ...d, vars: sealVars(this.keys, d.vars, stored?.vars) });
    return d;
  }

  /**
   * Hashes (or recognises as unchanged) the input's password before a batch's (apply's) transaction: a
   * legacy scrypt hash is compared on the thread pool, in parallel, so a write lock is never held across it.
   */
  async prepareCredentials(input: DeviceInput): Promise<DeviceInput> {
    if (input.password === undefined || input.credentials) return input;
    const prev = this.store.devices.get(input.id);
    const profile = input.profile ?? prev?.profile;
    let clear: boolean;
    try {
      if (!profile) return input;
      clear = this.opts.needsClearSecret(profile);
    } catch {
      return input; // an unknown profile: upsert reports it with the entry's context
    }
    const pw = input.password;
    if (pw && prev?.passwordHash) {
      const keep = clear
        ? prev.passwordEnc !== null && sameSecret(this.secretOf(prev), pw)
        : prev.passwordEnc === null &&
          (passwordHashScheme(prev.passwordHash) === 'scrypt'
            ? await verifyScryptHash(pw, prev.passwordHash)
            : verifyKeyedHash(this.keys, pw, prev.passwordHash));
      if (keep) return { ...input, credentials: { passwordHash: prev.passwordHash, passwordEnc: prev.passwordEnc } };
    }
    return {
      ...input,
      credentials: {
        passwordHash: pw ? hashPassword(this.keys, pw) : null,
        passwordEnc: pw && clear ? this.keys.encrypt(pw) : null,
      },
    };
  }

  // The same password set again (apply re-run, a script) keeps the stored hash: no new salt, no write, so
  // caches and remembered credentials stay valid and an unchanged apply file changes nothing.
  private keepsPassword(prev: DeviceRecord | undefined, profile: string, password: string): boolean {
    if (!prev?.passwordHash) return false;
    if (this.opts.needsClearSecret(profile)) return prev.passwordEnc !== null && sameSecret(this.secretOf(prev), password);
    if (prev.passwordEnc !== null) return false;
    return passwordHashScheme(prev.passwordHash) === 'scrypt'
      ? verifyScryptHashSync(password, prev.passwordHash)
      : verifyKeyedHash(this.keys, password, prev.passwordHash);
  }

  /**
   * Password checks against a stored hash (`checked`, keyed or scrypt), those that ran scrypt (`hashed`:
   * legacy hashes), how many wait for an scrypt slot now, and the most that ever ran at once.
   */
  passwordCheckStats(): { checked: number; hashed: number; queued: number; peakRunning: number } {
    const st = this.hashStats;
    return { checked: st.checked, hashed: st.hashed, queued: this.scryptSlots.pendingCount, peakRunning: st.peakRunning };
  }

  /** Seals secret variables a version before sealing stored in clear; returns how many records it rewrote. */
  sealStoredSecrets(): number {
    let n = 0;
    this.store.transaction(() => {
      // Only devices with variables can hold one in clear: a 100,000-device fleet is not read whole at start-up.
      for (const d of this.store.devices.withVars()) {
        if (!hasUnsealed(d.vars)) continue;
        this.store.devices.upsert({ ...d, vars: sealVars(this.keys, openVars(this.keys, d.vars), d.vars) });
        n++;
      }
      for (const g of this.store.devices.groups()) {
        if (!hasUnsealed(g.vars)) continue;
        this.store.devices.upsertGroup({ ...g, vars: sealVars(this.keys, openVars(this.keys, g.vars), g.vars) });
        n++;
      }
    });
    return n;
  }

  /** A record as read from the store, with its sealed (secret) variables opened. */
  private opened<T extends { vars: Record<string, string> } | undefined>(r: T): T {
    if (!r) return r;
    const vars = openVars(this.keys, r.vars);
    return vars === r.vars ? r : { ...r, vars };
  }

  private checkPins(pins: Pins, subject: PinSubject, who: string): void {
    for (const [slot, id] of Object.entries(pins)) {
      checkPinKey(slot);
      const problem = pinProblem(this.store.artifacts.get(id), slot, subject);
      if (problem) throw new ApsError('bad_request', `${who}: cannot pin ${slot} to artifact ${id}: ${problem}`);
    }
  }

  remove(id: string): DeviceRecord {
    const d = this.opened(this.store.devices.get(id));
    if (!d) throw new ApsError('not_found', `no device ${id}`);
    this.store.devices.remove(id);
    this.opts.removed?.(id);
    return d;
  }

  /**
   * Checks a clear password. Where the clear secret is kept (encrypted) it is compared directly; a keyed
   * hash is recomputed (microseconds); a legacy scrypt hash runs off the event loop, its success is
   * remembered for credentialCacheSeconds, and the stored hash is rewritten as a keyed one.
   */
  async verifyPassword(device: DeviceRecord, password: string): Promise<boolean> {
    if (!device.passwordHash) return false;
    if (device.passwordEnc) {
      const secret = this.secretOf(device);
      return secret !== undefined && secretsEqual(secret, password);
    }
    this.hashStats.checked++;
    if (passwordHashScheme(device.passwordHash) !== 'scrypt') return verifyKeyedHash(this.keys, password, device.passwordHash);
    const ok = await this.checkScrypt(device.id, password, device.passwordHash);
    if (ok) this.upgradeHash(device.id, device.passwordHash, password);
    return ok;
  }

  // Rewrites a verified legacy hash as a keyed one, after the answer (a write never delays a device): only if
  // the stored hash is still the one verified, and a failure (the store busy) just waits for the next login.
  private upgradeHash(id: string, verified: string, password: string): void {
    const next = hashPassword(this.keys, password);
    setImmediate(() => {
      try {
        this.store.devices.replacePasswordHash(id, verified, next);
      } catch {
        // retried at the device's next successful login
      }
    });
  }

  /**
   * Refuses a login for a user that does not exist at the cost of a real check (a keyed hash, as a known
   * device's), so response times do not tell which user names exist.
   */
  async rejectUnknown(user: string, password: string, storage: 'hash' | 'secret' = 'hash'): Promise<false> {
    if (storage === 'secret') {
      // Where a known device's password is checked by decrypting and comparing, an unknown one costs that.
      const secret = this.keys.decrypt(this.unknownBox);
      secretsEqual(secret ?? '', password);
      return false;
    }
    this.hashStats.checked++;
    verifyKeyedHash(this.keys, `${user}\0${password}`, this.unknownHash);
    return false;
  }

  private async checkScrypt(who: string, password: string, stored: string): Promise<boolean> {
    const key = this.keys.hmac('credential-cache', `${who}\0${password}\0${stored}`).toString('base64');
    const now = Date.now();
    if ((this.verified.get(key) ?? 0) > now) return true;
    if ((this.failed.get(key) ?? 0) > now) return false;
    const ok = await this.scryptSlots(async () => {
      const st = this.hashStats;
      st.hashed++;
      st.peakRunning = Math.max(st.peakRunning, ++st.running);
      try {
        return await verifyScryptHash(password, stored);
      } finally {
        st.running--;
      }
    });
    const memory = ok ? this.verified : this.failed;
    if (memory.size >= CACHE_MAX) memory.delete(memory.keys().next().value!);
    memory.set(key, now + (ok ? this.opts.credentialCacheMs : FAILURE_MEMORY_MS));
    return ok;
  }

  /** The clear secret, for protocols that need it (Digest); undefined when none is stored. */
  secretOf(device: DeviceRecord): string | undefined {
    return device.passwordEnc ? this.keys.decrypt(device.passwordEnc) : undefined;
  }
}

function merge<T>(base: Record<string, T>, patch: Record<string, T | null> | undefined, check: (k: string) => void): Record<string, T> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch ?? {})) {
    check(k);
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function checkVarName(k: string): void {
  if (!VAR_RE.test(k))
    throw new ApsError('bad_request', `variable name "${k}" must start with a letter or "_" and hold letters, digits, "_" or "."`);
}

function checkPinKey(k: string): void {
  if (!/^(bootstrap|firmware|config|aux)(:[a-z0-9-]{1,32})?$/.test(k)) {
    throw new ApsError('bad_request', `pin "${k}" must be a kind (bootstrap, firmware, config, aux) or "aux:<role>"`);
  }
}

function sameDevice(a: DeviceRecord | undefined, b: DeviceRecord): boolean {
  if (!a) return false;
  const strip = (d: DeviceRecord): string => JSON.stringify({ ...d, updatedAt: '' });
  return strip(a) === strip(b);
}

export type { Pins, Vars };

/** A stored clear secret against a given one, in constant time (an absent secret matches nothing). */
function sameSecret(stored: string | undefined, given: string): boolean {
  return stored !== undefined && secretsEqual(stored, given);
}
