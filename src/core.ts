import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { ApsError } from './errors.ts';
import { processAlive } from './fs-atomic.ts';
import { sweepLeftovers } from './data-folder.ts';
import type { Adapter, AdapterServices, PublicUrls } from './adapter.ts';
import { buildAdapterServices } from './adapter-services.ts';
import { AuditLog } from './admin/audit.ts';
import { AdminTokens, readTokenFile } from './admin/tokens.ts';
import { BackupStore } from './backups/backup-store.ts';
import { Catalog } from './catalog/catalog.ts';
import { FsBlobStore } from './catalog/blob-store.ts';
import { defaultPublicUrl, type ApsConfig } from './config.ts';
import { DeviceRegistry } from './devices/registry.ts';
import { Keyring } from './devices/secrets.ts';
import { EventSink } from './events/event-sink.ts';
import { KvState } from './kv-state.ts';
import type { Logger } from './log.ts';
import { loadProfiles, type ProfileRegistry } from './profiles/profiles.ts';
import { RenderedFiles } from './render/rendered-files.ts';
import { RevisionStore } from './render/revisions.ts';
import { onBackgroundWriteError, onCorruptValue, openStore, type Store } from './store/index.ts';
import { AccessGuard } from './transport/access-guard.ts';
import { DeviceFiles } from './transport/device-files.ts';
import { InFlight } from './transport/in-flight.ts';
import { FrontProxy } from './transport/front-proxy.ts';
import { trustedProxies } from './transport/trusted-proxies.ts';
import { systemClock, type Clock } from './clock.ts';
import { WindowGate } from './windows/gate.ts';
import { RefusalLog } from './transport/refusal-log.ts';

/** The kv namespace of the failure counts: not an adapter's name, so no adapter's state can reach it. */
const ACCESS_NAMESPACE = 'core:access';

export type { PublicUrls };

/** The core services the CLI and the admin API share. Built once per process by openCore(); adapters get servicesFor(). */
export interface CoreServices {
  config: ApsConfig;
  log: Logger;
  catalog: Catalog;
  devices: DeviceRegistry;
  profiles: ProfileRegistry;
  revisions: RevisionStore;
  rendered: RenderedFiles;
  events: EventSink;
  files: DeviceFiles;
  /** Device request work that records its event after its connection closed: shutdown waits for it. */
  inFlight: InFlight;
  keys: Keyring;
  /** Failed credential checks per device and address: back-off and locks (`aps access`). */
  guard: AccessGuard;
  /** Rate-limited refusal log lines and events. */
  refusals: RefusalLog;
  /** Files devices upload about themselves (config backups): adapters call put() with the request body. */
  backups: BackupStore;
  /** The audit log of admin changes: `core.audit.record({ who, action, target, before, after })`. */
  audit: AuditLog;
  /** Admin tokens (the configured one and named ones): verify, create, list, revoke. */
  tokens: AdminTokens;
  /** Maintenance windows: what each device is offered now (src/windows/gate.ts); its clock is the core's. */
  windows: WindowGate;
  urls: PublicUrls;
  /** The adapter's own persisted key-value state. */
  stateOf(adapter: string): KvState;
  adapterOf(profile: string): Adapter;
  /**
   * The adapter name of a profile, or undefined when the profile is gone (its file removed): device
   * routes use it so such a device is simply not theirs (401/404), never an error naming the profiles.
   */
  adapterNameOf(profile: string): string | undefined;
  /** The adapter's parsed section of the configuration (validated once at start-up). */
  adapterConfig(adapter: string): unknown;
  /** The narrow services one adapter receives (src/adapter.ts); `readOnly` for previews. */
  servicesFor(adapter: string, opts?: { readOnly?: boolean }): AdapterServices;
}

export interface Core extends CoreServices {
  store: Store;
  adapters: readonly Adapter[];
  close(): void;
}

/** Opens the data folder (SQLite, blobs, keys) and the profiles; the same for `serve` and every CLI command. */
export interface CoreOptions {
  /** "Now" for window decisions; tests inject one they can move. */
  clock?: Clock;
}

export function openCore(config: ApsConfig, adapters: readonly Adapter[], log: Logger, opts: CoreOptions = {}): Core {
  // Owner-only: the database, the key file and per-device configs inside hold secrets. An existing folder
  // keeps the mode its owner gave it.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // Before any store writes: a temp file whose writer is gone (kill -9, power loss) is removed here.
  const leftovers = sweepLeftovers(config.dataDir);
  if (leftovers.length > 0) log.warn({ removed: leftovers.length }, 'removed temp files left by an interrupted write');
  const byName = new Map(adapters.map((a) => [a.name, a]));
  const adapterConfigs = parseAdapterConfigs(config, adapters);
  const profiles = loadProfiles(config.profilesDir, (name) => byName.get(name)?.profileSchema);
  const store = openStore(config.dataDir);
  const keys = Keyring.load(config.dataDir);
  const adapterOf = (profile: string): Adapter => byName.get(profiles.require(profile).adapter)!;
  const events = new EventSink(store, log);
  const devices = new DeviceRegistry(store, keys, {
    needsClearSecret: (p) => adapterOf(p).credentials === 'secret',
    assertProfile: (p, model) => {
      const { models } = profiles.require(p);
      if (model !== null && models.length > 0 && !models.includes(model)) {
        throw new ApsError('bad_request', `model "${model}" is not one of profile ${p}'s models (${models.join(', ')})`);
      }
    },
    credentialCacheMs: config.credentialCacheSeconds * 1000,
    validate: (d) => byName.get(profiles.require(d.profile).adapter)?.validateDevice?.(d),
    queuedState: (id) => events.queuedState(id),
    removed: (id) => {
      events.forgetState(id);
      windows.forgetDevice(id);
    },
  });
  const revisions = new RevisionStore(store);
  // A corrupt stored value is refused where it is read (parseJson); the log says which one.
  const unlistenCorrupt = onCorruptValue((where) => log.error({ where }, 'corrupt value in the store'));
  const unlistenWrites = onBackgroundWriteError((what, err) =>
    log.error({ what, err: (err as Error).message }, 'background store write failed: the rows are kept and tried again every second'),
  );
  // Groups are the registry's (cached per generation there); target selection reads them through it.
  const catalog = new Catalog(store, new FsBlobStore(config.dataDir), devices, {
    orderOf: (p) => profiles.get(p)?.order ?? 'version',
    releaseOf: (p) => profiles.get(p)?.release ?? 'auto',
    slotsOf: (p) => {
      const adapter = profiles.get(p)?.adapter;
      return adapter === undefined ? undefined : byName.get(adapter)?.slots;
    },
  });
  const frontProxy =
    config.http.frontProxy && new FrontProxy(config.http.frontProxy, log.child({ transport: 'front-proxy' }), trustedProxies(config.http));
  const windows = new WindowGate(
    store,
    profiles,
    (id) => catalog.get(id),
    (id) => devices.get(id) !== undefined,
    opts.clock ?? systemClock,
    keys,
  );
  const audit = new AuditLog(store);
  let configToken = config.adminToken;
  const tokens = new AdminTokens({ store, keys, audit }, () => (configToken ??= readTokenFile(config.dataDir)));
  const refusals = new RefusalLog(config.access.refusalsLoggedPerMinute, log, events, config.access.maxTrackedAddresses);
  const guard = new AccessGuard(new KvState(store, ACCESS_NAMESPACE), config.access, log, events);
  const inFlight = new InFlight();
  const files = new DeviceFiles(
    catalog,
    events,
    log,
    revisions,
    refusals,
    inFlight,
    { minBytesPerSecond: config.http.minSendRate, graceMs: config.http.minSendRateGraceSeconds * 1000 },
    (deviceId, a) => windows.noteFetched(deviceId, a),
    frontProxy,
  );
  const backups = new BackupStore(
    { store, keys, catalog, devices, events, log, audit },
    { dataDir: config.dataDir, keep: config.backups.keep, maxBytes: config.backups.maxBytes },
  );
  const services = new Map<string, AdapterServices>();
  const core: Core = {
    config,
    log,
    store,
    adapters,
    catalog,
    devices,
    profiles,
    revisions,
    rendered: new RenderedFiles(store, revisions),
    events,
    files,
    inFlight,
    keys,
    guard,
    refusals,
    backups,
    audit,
    tokens,
    windows,
    urls: configuredOrServedUrls(config, store),
    stateOf: (name) => new KvState(store, name),
    adapterOf,
    adapterNameOf: (profile) => profiles.get(profile)?.adapter,
    adapterConfig: (name) => adapterConfigs.get(name),
    servicesFor(name, opts = {}): AdapterServices {
      const key = `${name}${opts.readOnly ? ':ro' : ''}`;
      let s = services.get(key);
      if (!s) {
        const a = byName.get(name);
        if (!a) throw new ApsError('internal', `no adapter named "${name}"`);
        s = buildAdapterServices(core, a, opts);
        services.set(key, s);
      }
      return s;
    },
    close(): void {
      refusals.close();
      // The access guard's pending writes are kv rows: store.close() below commits them (and says what is lost).
      events.close();
      try {
        revisions.flush(true);
        windows.flush(true);
      } catch (e) {
        // Another process held the write lock past the busy timeout: the next start renders and stamps again.
        log.warn({ err: (e as Error).message }, 'revisions or fetches decided under a lock were not written at shutdown');
      }
      const pending = store.state.kvPendingCount();
      try {
        store.close();
      } catch (e) {
        // Another process held the write lock past the busy timeout (or the disk failed): say what is lost.
        log.warn({ err: (e as Error).message, pending }, 'kv writes not committed at shutdown');
      }
      unlistenCorrupt();
      unlistenWrites();
    },
  };
  return core;
}

function parseAdapterConfigs(config: ApsConfig, adapters: readonly Adapter[]): Map<string, unknown> {
  const known = new Set(adapters.map((a) => a.name));
  for (const key of Object.keys(config.adapters)) {
    if (!known.has(key)) throw new ApsError('invalid_config', `adapters.${key}: no adapter named "${key}"`);
  }
  const out = new Map<string, unknown>();
  for (const a of adapters) {
    const r = a.configSchema.safeParse(config.adapters[a.name] ?? {});
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new ApsError('invalid_config', `adapters.${[a.name, ...i.path].join('.')}: ${i.message}`);
    }
    out.set(a.name, Object.freeze(r.data));
  }
  return out;
}

const SERVED_URLS = 'served-urls';

interface ServedUrls {
  urls: PublicUrls;
  pid: number;
  host: string;
}

/** Remembers the URLs `aps serve` really serves on while it runs, for CLI commands run beside it. */
export function rememberServedUrls(store: Store, urls: PublicUrls): void {
  new KvState(store, 'core').set(SERVED_URLS, { urls, pid: process.pid, host: hostname() } satisfies ServedUrls);
}

/** Called when the server stops: its URLs are no longer the truth. */
export function forgetServedUrls(store: Store): void {
  new KvState(store, 'core').delete(SERVED_URLS);
}

/**
 * An explicit public URL wins; without one, a CLI command run beside a running server (`aps device show`)
 * uses the URLs that server announces rather than defaults it could only guess from its own settings.
 * A record left by a server that is gone (killed, or on another machine) is ignored.
 */
function configuredOrServedUrls(config: ApsConfig, store: Store): PublicUrls {
  const configured = publicUrls(
    config,
    config.http.port,
    config.https.enabled ? config.https.port : null,
    config.ftp.enabled ? config.ftp.port : null,
  );
  if (config.publicUrl) return configured;
  const served = new KvState(store, 'core').get<ServedUrls>(SERVED_URLS);
  return served && served.host === hostname() && processAlive(served.pid) ? served.urls : configured;
}

/** APS_PUBLIC_URL when set (its host also serves HTTPS on the HTTPS port), else this host's LAN address. */
export function publicUrls(config: ApsConfig, httpPort: number, httpsPort: number | null, ftpPort: number | null = null): PublicUrls {
  const ftpOf = (http: string): string | null => (ftpPort === null ? null : `ftp://${new URL(http).hostname}:${ftpPort}`);
  if (config.publicUrl) {
    const u = new URL(config.publicUrl);
    const https =
      httpsPort === null
        ? null
        : u.protocol === 'https:'
          ? config.publicUrl
          : `https://${u.hostname}:${httpsPort}${u.pathname.replace(/\/$/, '')}`;
    return { http: config.publicUrl, https, ftp: ftpOf(config.publicUrl) };
  }
  // A server bound to one address (127.0.0.1 in tests and labs) is reached there; a wildcard bind uses the LAN address.
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? undefined : config.http.host;
  const http = defaultPublicUrl('http', httpPort, host);
  return { http, https: httpsPort === null ? null : defaultPublicUrl('https', httpsPort, host), ftp: ftpOf(http) };
}
