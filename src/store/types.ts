// The store's records and its interface. SQLite implements it today; the interface is what a
// PostgreSQL store would implement for several stateless APS nodes.
export type ArtifactKind = 'bootstrap' | 'firmware' | 'config' | 'aux';
export const ARTIFACT_KINDS: readonly ArtifactKind[] = ['bootstrap', 'firmware', 'config', 'aux'];

export interface ArtifactRecord {
  id: number;
  kind: ArtifactKind;
  profile: string;
  models: string[];
  /** Sub-type within a kind, e.g. 'cpt' for an auxiliary file; '' when the kind has one slot. */
  role: string;
  /** Set for a per-device artifact (a device's own config file). */
  deviceId: string | null;
  version: string;
  serial: number | null;
  filename: string;
  size: number;
  md5: string;
  sha256: string;
  origin: string;
  addedAt: string;
}
export type NewArtifact = Omit<ArtifactRecord, 'id' | 'addedAt'>;

/** Pin keys are the kind, or `aux:<role>` for auxiliary files; values are artifact ids. */
export type Pins = Record<string, number>;
export type Vars = Record<string, string>;

export interface DeviceRecord {
  id: string;
  profile: string;
  model: string | null;
  mac: string | null;
  group: string | null;
  passwordHash: string | null;
  passwordEnc: string | null;
  vars: Vars;
  pins: Pins;
  status: 'active' | 'pending';
  createdAt: string;
  updatedAt: string;
}

/** `auto`: a new artifact is a target at once; `manual`: a candidate until a rollout or a pin makes it one. */
export type ReleasePolicy = 'auto' | 'manual';

export interface GroupRecord {
  name: string;
  vars: Vars;
  pins: Pins;
  /** Overrides the `release:` of its devices' profiles; null/absent: the profile decides. */
  release?: ReleasePolicy | null;
}

export interface FetchedEntry {
  at: string;
  artifactId?: number;
  revision?: number;
  version?: string;
}

export interface DeviceStateRecord {
  deviceId: string;
  lastSeen: string | null;
  lastIp: string | null;
  lastUa: string | null;
  reported: Record<string, unknown>;
  fetched: Record<string, FetchedEntry>;
}

export interface RevisionRecord {
  deviceId: string;
  file: string;
  sha256: string;
  serial: number;
  modifiedMs: number;
}

/** A fault the device reported (its own code and message), or one its protocol implies (e.g. a timeout). */
export interface EventFault {
  code: string;
  message: string;
}

export interface EventRecord {
  id: number;
  at: string;
  deviceId: string | null;
  adapter: string;
  file: string;
  artifactId: number | null;
  revision: number | null;
  bytes: number;
  status: number;
  ip: string | null;
  ua: string | null;
  detail: string | null;
  /** Set when the device failed (status then is what the server answered, never a made-up 500). */
  fault: EventFault | null;
}
export type NewEvent = Omit<EventRecord, 'id'>;

export interface EventQuery {
  deviceId?: string;
  adapter?: string;
  /** Only events newer than this id (catching up after a gap). */
  afterId?: number;
  /** Only events recorded at or after this ISO time. */
  since?: string;
  /** Only events older than this id: the next page of a newest-first listing. */
  beforeId?: number;
  limit?: number;
}

/** One device as the fleet view sees it: what decides its target, and the firmware it runs (or fetched). */
export interface FleetDeviceRow {
  id: string;
  profile: string;
  model: string | null;
  group: string | null;
  pins: Pins;
  status: 'active' | 'pending';
  version: string | null;
  basis: 'reported' | 'fetched' | null;
  lastSeen: string | null;
}

export interface FleetRow {
  profile: string;
  version: string;
  /** Where the version comes from: the device's own report, its last complete download, or nowhere yet. */
  basis: 'reported' | 'fetched' | null;
  devices: number;
  lastSeen: string | null;
}

/** One file a device uploaded about itself (a configuration backup). */
export interface BackupRecord {
  deviceId: string;
  /** 1, 2, 3… per device: never reused while the device exists. */
  seq: number;
  /** The name the device used (the last segment of its PUT URL). */
  name: string;
  /** The rolling index (`#bn`) the adapter computed, when the protocol has one. */
  slot: number | null;
  at: string;
  size: number;
  /** Of the bytes the device sent (not of the sealed file). */
  sha256: string;
  remote: string | null;
}

/** A backup row with the name of its file in the device's backup folder: private to the backup store. */
export interface StoredBackup extends BackupRecord {
  file: string;
}
