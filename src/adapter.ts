import type { BackupPutInput, BackupRecord } from './backups/backup-store.ts';
import type { Command } from 'commander';
import type { Request, Response, Router } from 'express';
import type { ZodType } from 'zod';
import type { ArtifactSlot } from './catalog/slots.ts';
import type { TargetSubject } from './catalog/catalog.ts';
import type { DeviceInput } from './devices/registry.ts';
import type { DeviceEvent, ReportInput } from './events/event-sink.ts';
import type { AdapterState } from './kv-state.ts';
import type { Logger } from './log.ts';
import type { Profile } from './profiles/profiles.ts';
import type { RenderedFile } from './render/rendered-files.ts';
import type { Revision } from './render/revisions.ts';
import type { ArtifactKind, ArtifactRecord, DeviceRecord, DeviceStateRecord, EventRecord, GroupRecord } from './store/index.ts';
import type { DeviceRequestInfo } from './transport/device-files.ts';
import type { ServeResult } from './transport/file-responder.ts';
import type { FtpMount } from './transport/ftp-mount.ts';
import type { DeviceAccess } from './transport/device-access.ts';
import type { PushServices } from './push/check-sync.ts';
import type { DeviceWindow } from './windows/gate.ts';

// The adapter contract. An adapter receives exactly the services below, built for it by the core
// (src/adapter-services.ts), and nothing else: no store, no keyring, no other adapter's state or config.
// Device and profile lookups are scoped to the adapter's own profiles, so an adapter cannot even see
// another family's devices. Adapters import these types from src/adapter-api.ts only.

/** The base URLs written into device files. Set from config, or from the real ports once listening. */
export interface PublicUrls {
  http: string;
  https: string | null;
  /** `ftp://host:port` when the FTP server is enabled (same host as HTTP), else null. */
  ftp: string | null;
}

export type { ArtifactSlot };

/** What to enter on a device so it reaches APS: printed by `aps device show ID --json` as `setup`. */
export interface DeviceSetup {
  /** The provisioning URL, with the vendor's own placeholders left in. */
  url: string;
  /** Credentials the device must be given (the password itself is never echoed). */
  credentials?: { username: string; password: string };
  /** Further settings, e.g. DHCP options, in the vendor's words. */
  hints: string[];
  [extra: string]: unknown;
}

export interface PreviewFile {
  name: string;
  contentType: string;
  /** Present for rendered (text) files; artifacts are described by id and digest instead. */
  text?: string;
  artifactId?: number;
  md5: string;
  size: number;
  serial?: number;
  lastModified?: string;
}

export interface NotifyResult {
  ok: boolean;
  /** One line for the operator: "200 OK", "401 challenge", "timeout after 32 s"… */
  summary: string;
}

/** The catalog as adapters see it: target selection and reading, never adding or removing. */
export interface CatalogReader {
  target(device: TargetSubject, kind: ArtifactKind, role?: string): ArtifactRecord | undefined;
  targets(device: TargetSubject): Map<string, ArtifactRecord>;
  get(id: number): ArtifactRecord | undefined;
  /** A small artifact's bytes (configs); refuses one larger than `maxBytes`. */
  readSmall(a: ArtifactRecord, maxBytes?: number): Buffer;
  /** Where an artifact's bytes live, for a transport that streams files itself (the FTP view). */
  blobPath(a: ArtifactRecord): string;
}

/** This adapter's devices: lookups return only devices whose profile belongs to the adapter. */
export interface DeviceDirectory {
  get(id: string): DeviceRecord | undefined;
  getByMac(mac: string): DeviceRecord | undefined;
  list(): DeviceRecord[];
  /** How many of this adapter's devices wait for approval: what a cap on self-registration counts. */
  countPending(): number;
  state(id: string): DeviceStateRecord | undefined;
  group(name: string): GroupRecord | undefined;
  /** Creates or changes one of this adapter's devices (e.g. a pending device that announced itself). */
  upsert(input: DeviceInput, mode?: 'create' | 'update' | 'upsert'): DeviceRecord;
  verifyPassword(device: DeviceRecord, password: string): Promise<boolean>;
  /** Costs what a wrong password costs, so an unknown user name is no faster to refuse. */
  rejectUnknown(user: string, password: string): Promise<false>;
  /** The clear password, for protocols that need it (credentials: 'secret'); undefined otherwise. */
  secretOf(device: DeviceRecord): string | undefined;
}

/** This adapter's profiles. */
export interface ProfileReader {
  get(name: string): Profile | undefined;
  require(name: string): Profile;
  list(): Profile[];
}

/** Device-facing answers: every file served or refused becomes an event (src/transport/device-files.ts). */
export interface FileResponder {
  sendArtifact(req: Request, res: Response, a: ArtifactRecord, info: DeviceRequestInfo, contentType?: string): Promise<ServeResult>;
  sendRendered(req: Request, res: Response, f: RenderedFile, info: DeviceRequestInfo, contentType: string): Promise<ServeResult>;
  deny(
    req: Request,
    res: Response,
    status: 400 | 401 | 403 | 404,
    reason: string,
    info: DeviceRequestInfo,
    headers?: Record<string, string>,
  ): void;
  artifactDate(deviceId: string | null, file: string, a: ArtifactRecord): Date;
}

export interface RevisionService {
  stamp(deviceId: string, file: string, bytes: Buffer): Revision;
  peek(deviceId: string, file: string, bytes: Buffer): Revision;
  current(deviceId: string, file: string): { serial: number; lastModified: Date } | undefined;
}

export interface RenderedFileService {
  get(deviceId: string, file: string, inputKey: string, render: () => Buffer): RenderedFile;
  /** The serial a vendor compares for the artifact a device gets in a slot: grows whenever that target changes. */
  artifactSerial(deviceId: string, slot: string, a: ArtifactRecord): number;
}

/**
 * Maintenance windows, as render input: the core decides what a device is offered (the catalog reader and
 * rendered files already answer accordingly); an adapter whose devices have their own notion of allowed
 * hours or a daily check time writes the window into the device's file from this.
 */
export interface WindowService {
  /** The device's window (its group's, else its profile's), or undefined when changes go out at once. */
  of(device: Pick<DeviceRecord, 'profile' | 'group'>): DeviceWindow | undefined;
  /**
   * Whether the device is held now: its window is closed and it is not new (the catalog reader offers it what
   * it holds). An adapter whose files can say "change nothing" says so rather than name a held image.
   */
  holds(device: Pick<DeviceRecord, 'id' | 'profile' | 'group'>): boolean;
}

export interface EventService {
  record(e: DeviceEvent): void;
  report(r: ReportInput): void;
}

/** Keys and sealing scoped to the adapter: a purpose "digest" of adapter "x" is the key "x-digest". */
export interface AdapterSecrets {
  key(purpose: string): Buffer;
  hmac(purpose: string, data: string): Buffer;
  /** AES-256-GCM with the data folder's key: for secrets kept in the adapter's state. */
  seal(plain: string): string;
  open(box: string): string | undefined;
}

/** Everything an adapter may use, in `register()`, `setup()`, `preview()` and `notify()` alike. */
/**
 * Device backups, limited to the adapter's own devices: its PUT route calls put() with the request body
 * (after checking who may PUT); another family's device is "not found".
 */
export interface BackupService {
  put(body: NodeJS.ReadableStream, input: BackupPutInput): Promise<{ backup: BackupRecord; created: boolean }>;
  list(deviceId: string): BackupRecord[];
  get(deviceId: string, seq: number): BackupRecord | undefined;
  latest(deviceId: string, slot?: number | null): BackupRecord | undefined;
  read(deviceId: string, seq: number): Buffer;
  /**
   * Stores the request body as the device's backup and answers it: 201 new, 200 identical retry, 413 too
   * large, 400 empty or broken, nothing for a cut-off upload; each an event. Returns the backup when stored.
   */
  receive(
    req: Request,
    res: Response,
    info: DeviceRequestInfo,
    input: BackupPutInput,
  ): Promise<{ backup: BackupRecord; created: boolean } | undefined>;
}

export interface AdapterServices {
  name: string;
  log: Logger;
  urls: Readonly<PublicUrls>;
  catalog: CatalogReader;
  devices: DeviceDirectory;
  profiles: ProfileReader;
  revisions: RevisionService;
  rendered: RenderedFileService;
  events: EventService;
  files: FileResponder;
  secrets: AdapterSecrets;
  push: PushServices;
  /** The adapter's own persisted key-value state (protocol sessions, pending downloads). */
  state: AdapterState;
  /** identify → authenticate → refuse, written once (src/transport/device-access.ts). */
  access: DeviceAccess;
  /** Files the adapter's devices upload about themselves (config backups). */
  backups: BackupService;
  /** Maintenance windows as render input (allowed hours, a daily check time inside the window). */
  windows: WindowService;
}

/** What `register()` receives: the services, plus the adapter's own config, routes and FTP view. */
export interface AdapterContext<C = unknown> extends AdapterServices {
  /** The adapter's own parsed section of the configuration. */
  config: C;
  /** Mounted under /<name> on HTTP and HTTPS. */
  router: Router;
  ftp: FtpMount;
}

/** What an adapter's `commands()` may use from the CLI. */
export interface AdapterCli {
  /** Opens the core for one command and hands it this adapter's services. */
  withServices<T>(cmd: Command, fn: (s: AdapterServices & { catalog: CatalogWriter }) => T | Promise<T>): Promise<T>;
  /** Writes a profile (YAML and optional template) atomically and loads it back to validate it. */
  writeProfile(cmd: Command, p: ProfileFiles): { yamlPath: string; templatePath: string | null };
  /** commander's repeatable-option collector. */
  collect: (value: string, previous?: string[]) => string[];
}

/** A catalog that also adds files: for adapter commands that import a device's own config. */
export interface CatalogWriter extends CatalogReader {
  addBuffer(
    bytes: Buffer,
    input: { kind: ArtifactKind; profile: string; deviceId?: string | null; filename: string; origin?: string },
  ): Promise<ArtifactRecord>;
}

export interface ProfileFiles {
  name: string;
  /** The YAML text of the profile (its `template:` names `templates/<file>` when there is one). */
  yaml: string;
  template?: { file: string; text: string };
  /** Replace existing files (else a conflict error names the file). */
  force?: boolean;
}

/**
 * How this adapter's devices show that a new artifact took (the staged-rollout health check, src/rollouts/).
 * `version`: the device reports what it runs (the `firmware` key of its reported state) and succeeds when
 * that is `versionOf(artifact)`; `fetch`: it reports nothing, and a complete download of the artifact is
 * its success. Either way the core also fails a device on a fault recorded about the artifact (see
 * `concerns`), a download cut off, a second complete download while it still reports the old version, or
 * no success within the rollout's timeout.
 */
export interface RolloutHealth {
  reports: 'version' | 'fetch';
  /** The version string the device reports once it runs `a` (default: `a.version`). */
  versionOf?: (a: ArtifactRecord) => string | undefined;
  /** The form versionOf gives of a version as the device reports it (default: as reported), e.g. "4.1.1.0.7" → "R4_1_1_0_7". */
  normalize?: (reported: string) => string;
  /** Whether a recorded event is about the device's change to `a` (default: the event names artifact `a`). */
  concerns?: (e: EventRecord, a: ArtifactRecord) => boolean;
  /**
   * Whether a target of the device's own can reach it (default: yes). One that cannot (e.g. a phone the
   * shared script cannot name) is left out of the stages, so it neither waits for a change that never comes
   * nor fails the rollout; it gets the artifact when the rollout releases it.
   */
  reachable?: (d: DeviceRecord) => boolean;
}

export interface Adapter<C = unknown> {
  /** Folder, config key, route prefix and log tag. */
  name: string;
  description: string;
  configSchema: ZodType<C>;
  /** Validates a profile's `settings` section. */
  profileSchema: ZodType;
  /** 'secret' when the protocol needs the clear password (HTTP Digest, credentials written into files). */
  credentials: 'hash' | 'secret';
  /**
   * Checks a device's identity as `device add/set`, `apply` and the API write it (e.g. an AudioCodes
   * device needs a MAC); throws an ApsError('bad_request') with the adapter's own message.
   */
  validateDevice?(device: DeviceRecord): void;
  /**
   * The artifact kinds and roles this adapter serves. A profile of this adapter accepts only these (an
   * artifact nothing would ever fetch is refused when added); omitted, every kind is accepted.
   */
  slots?: readonly ArtifactSlot[];
  register(ctx: AdapterContext<C>): void | Promise<void>;
  setup(device: DeviceRecord, services: AdapterServices, config: C): DeviceSetup;
  preview(device: DeviceRecord, services: AdapterServices, config: C): PreviewFile[];
  /** Adds the options and action of `aps simulate <name>`. */
  simulator?(cmd: Command): void;
  /** Adds the adapter's own subcommands under `aps <name>` (e.g. importing a vendor file as a profile). */
  commands?(cmd: Command, cli: AdapterCli): void;
  /**
   * Lines of this adapter's device backups that change on every upload (counters, TLS session tickets,
   * call lists): `aps backup diff` and the API's diff leave them out, so a diff shows real changes only.
   */
  backupVolatile?: RegExp[];
  /** How its devices report a new firmware (staged rollouts); omitted: `version`, compared with the artifact's version. */
  rolloutHealth?: RolloutHealth;
  /** Makes the device check now (SIP NOTIFY, TR-069 connection request…). */
  notify?(device: DeviceRecord, services: AdapterServices, config: C): Promise<NotifyResult>;
  close?(): Promise<void>;
}

/** Erases the config type parameter for the registry list, keeping each adapter's own typing inside it. */
export function defineAdapter<C>(a: Adapter<C>): Adapter<unknown> {
  return a as unknown as Adapter<unknown>;
}
