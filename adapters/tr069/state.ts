// What the ACS keeps between HTTP messages, in the core's persisted key-value state (ctx.state), never
// in process memory: a CPE that reconnects after a 401, or lands on another node, finds its session and
// its pending downloads (DESIGN "Hot paths and scale"). The store serves this process's reads of it from
// memory and commits its writes every 10 ms (src/store/kv-cache.ts, state-queries.ts): another node sees
// a session's new state that much later.
//
// Keys:  session:<token>            one CWMP session (TTL: sessionTimeoutSeconds after the last message)
//        dl:<deviceId>:<commandKey> a Download sent and not yet completed
//        retry:<deviceId>:<kind>    failures of one kind of download, for the back-off
//        file:<deviceId>:<commandKey> the config bytes a Download announced (served as announced)
//        applied:<deviceId>         what the CPE last installed successfully
//        pending:<deviceId>         a CPE registered as pending by an Inform (count, first ConnectionRequestURL)
//        nonce:<nonce>              highest Digest nonce-count seen on the ACS URL (replay check, auth.ts)
import type { CwmpNamespace } from './soap.ts';

export type DownloadKind = 'firmware' | 'config';

export interface SessionState {
  token: string;
  deviceId: string;
  ns: CwmpNamespace;
  /** A pending (not yet approved) CPE: its Inform is answered and recorded, nothing is sent to it. */
  passive: boolean;
  secure: boolean;
  /** The client address that opened the session: the cookie is honoured from that address only. */
  ip: string;
  /** User names an Authorization header in this session may carry (the device's id and aliases). */
  usernames: string[];
  /** SoftwareVersion from this session's Inform (the device state is written asynchronously). */
  softwareVersion?: string;
  /** The CPE sent its empty POST: the ACS may send requests (TR-069 §3.7.2.4). */
  cpeDone: boolean;
  /**
   * The ACS ended the session (after a CPE Fault or a protocol error): it sends nothing more, though a
   * TransferComplete or GetRPCMethods is still answered.
   */
  ended?: boolean;
  /** CommandKey of the Download waiting for its DownloadResponse. */
  awaiting?: string;
  /** Kinds already sent in this session: never twice in one session. */
  sent: DownloadKind[];
  /** CommandKeys sent in this session (a firmware TransferComplete in the same session precedes the reboot). */
  sentKeys: string[];
}

export interface PendingDownload {
  deviceId: string;
  kind: DownloadKind;
  commandKey: string;
  /** The session that sent it; a Download never acknowledged by that session is abandoned. */
  session: string;
  state: 'sent' | 'accepted';
  createdAt: number;
  /** After this (ms since the epoch) a missing TransferComplete becomes a fault. */
  deadline: number;
  fileName: string;
  size: number;
  /**
   * 'token': announced with a URL token instead of credentials (adapters.tr069.fileAuth), and fetched
   * only through that URL; absent: with the Download's credentials.
   */
  fileAuth?: 'token';
  artifactId?: number;
  /** Firmware: the version the CPE should report afterwards. */
  version?: string;
  /** Config: the revision it carries. */
  configMd5?: string;
  configSerial?: number;
}

export interface LastFault {
  kind: DownloadKind;
  commandKey: string;
  faultCode: number;
  faultString: string;
  at: string;
}

export interface RetryState {
  failures: number;
  /** No new Download of this kind before this time (ms). */
  notBefore: number;
  lastFault: LastFault;
}

export interface AppliedState {
  /**
   * `verified: false`: completed in the session that sent it (Status 0, or a TransferComplete before the
   * reboot); the next Inform must show `version`. Absent (older entries) counts as verified.
   */
  firmware?: { artifactId: number; version: string; at: string; commandKey?: string; verified?: boolean };
  config?: { md5: string; serial: number; at: string };
}

/** The config bytes a Download announced (FileSize, revision), kept until the download completes. */
export interface AnnouncedFile {
  /** base64 of the bytes, sealed with the keyring (a config holds secrets) */
  bytes: string;
  serial: number;
  /** ms since the epoch */
  lastModified: number;
  etag: string;
  sha256: string;
  md5: string;
}

/** A CPE this adapter registered as pending. */
export interface PendingCpe {
  /** The first ConnectionRequestURL it reported: an unauthenticated Inform never replaces it. */
  connectionRequestUrl?: string;
}

export const keys = {
  session: (token: string): string => `session:${token}`,
  download: (deviceId: string, commandKey: string): string => `dl:${deviceId}:${commandKey}`,
  downloadsOf: (deviceId: string): string => `dl:${deviceId}:`,
  allDownloads: 'dl:',
  retry: (deviceId: string, kind: DownloadKind): string => `retry:${deviceId}:${kind}`,
  applied: (deviceId: string): string => `applied:${deviceId}`,
  file: (deviceId: string, commandKey: string): string => `file:${deviceId}:${commandKey}`,
  pendingCpe: (deviceId: string): string => `pending:${deviceId}`,
  allPendingCpes: 'pending:',
};

/** Exponential back-off: base * 2^(failures-1), capped (failures >= 1). */
export function backoffMs(failures: number, baseSeconds: number, maxSeconds: number): number {
  const exp = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(baseSeconds * 2 ** exp, maxSeconds) * 1000;
}
