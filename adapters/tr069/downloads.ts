// Which Download RPC a CPE gets, and what happens to it until TransferComplete (TR-069 §A.3.2.8,
// §A.3.3.2; seed 002 "Configuration Update" flow). Faults are values: stored as the device's last fault
// and retried with back-off, never in a loop.
import { randomBytes } from 'node:crypto';
import {
  type AdapterServices,
  type AdapterState,
  type Logger,
  type RenderedFile,
  renderDeviceConfig,
  type ArtifactRecord,
  type DeviceRecord,
  profileSettings,
} from '../../src/adapter-api.ts';
import { profileSchema, type Tr069Config, type Tr069Settings } from './settings.ts';
import { CwmpBuildError, buildCwmp, type DownloadArgs, type FaultStruct } from './soap.ts';
import {
  backoffMs,
  keys,
  type AnnouncedFile,
  type AppliedState,
  type DownloadKind,
  type LastFault,
  type PendingDownload,
  type RetryState,
  type SessionState,
} from './state.ts';

export const NAME = 'tr069';

export interface AcsDeps {
  core: AdapterServices;
  config: Tr069Config;
  log: Logger;
  kv: AdapterState;
}

export interface CpeFiles {
  settings: Tr069Settings;
  firmware?: ArtifactRecord;
  /** The device's config artifact, else the profile template, as a stable revision. */
  config?: RenderedFile;
}

/** The device profile's TR-069 settings (parsed once per profile object by the contract's memo; only read). */
export function settingsOf(core: AdapterServices, device: DeviceRecord): Tr069Settings {
  return profileSettings(profileSchema, core.profiles.require(device.profile));
}

export function cpeFiles(core: AdapterServices, device: DeviceRecord): CpeFiles {
  const settings = settingsOf(core, device);
  return { settings, firmware: core.catalog.target(device, 'firmware'), config: renderDeviceConfig(core, device) };
}

/** Per-download file-server password: derived, never stored, useless for any other download. */
export function downloadPassword(core: AdapterServices, deviceId: string, commandKey: string): string {
  return core.secrets.hmac('download', `${deviceId}\0${commandKey}`).toString('base64url').slice(0, 24);
}

/**
 * Per-download URL token (adapters.tr069.fileAuth: token): 144 bits derived with the keyring, never
 * stored, valid only while that download is pending. The CPE that ignores the Download's credentials
 * can still fetch only the file it was told to fetch.
 */
export function downloadToken(core: AdapterServices, deviceId: string, commandKey: string): string {
  return core.secrets.hmac('file-token', `${deviceId}\0${commandKey}`).toString('base64url').slice(0, 24);
}

/** Unique, at most 32 characters (cwmp xsd), URL-safe: it is also a path segment of the file URL. */
function newCommandKey(kind: DownloadKind, now: number): string {
  return `${kind === 'firmware' ? 'fw' : 'cf'}-${now.toString(36)}-${randomBytes(6).toString('hex')}`;
}

export function pendingDownloads(deps: AcsDeps, deviceId: string): PendingDownload[] {
  return deps.kv.entries<PendingDownload>(keys.downloadsOf(deviceId)).map((e) => e.value);
}

/**
 * At each Inform, before planning (issue #4: faults are values, retried with back-off, never in a loop):
 * - a Download its session never acknowledged is a fault: a CPE that drops the session on every Download
 *   must not be sent one every session;
 * - one accepted (Status 1) whose TransferComplete is overdue becomes a fault ("a download that never
 *   completes times out"; the background sweep does the same for CPEs that never come back);
 * - a firmware reported complete in the session that sent it is verified now: a CPE that still reports
 *   another SoftwareVersion has failed (without this, an exact-string mismatch between the artifact's
 *   version and the CPE's would send the image again every session);
 * - "0 BOOTSTRAP" (first contact, or a factory reset): whatever config the CPE applied before is gone, so
 *   APS forgets it and the next empty POST sends the config again. Firmware needs nothing: it is compared
 *   with the SoftwareVersion the CPE reports, which a reset does not change.
 */
export function beforeSession(
  deps: AcsDeps,
  deviceId: string,
  currentSession: string,
  inform: { softwareVersion: string | undefined; bootstrap: boolean },
  now: number,
): void {
  for (const d of pendingDownloads(deps, deviceId)) {
    if (d.state === 'sent' && d.session !== currentSession) finish(deps, d, NEVER_ACKNOWLEDGED, undefined);
    else if (d.state === 'accepted' && d.deadline <= now) finish(deps, d, overdue(d), undefined);
  }
  verifyFirmware(deps, deviceId, inform.softwareVersion);
  if (inform.bootstrap) forgetConfig(deps, deviceId);
}

function forgetConfig(deps: AcsDeps, deviceId: string): void {
  const applied = deps.kv.get<AppliedState>(keys.applied(deviceId));
  if (!applied?.config) return;
  deps.kv.set(keys.applied(deviceId), { ...applied, config: undefined } satisfies AppliedState);
  deps.core.events.record({
    deviceId,
    adapter: NAME,
    file: 'download:config',
    status: 200,
    detail: `0 BOOTSTRAP: config revision ${applied.config.serial} forgotten, sent again`,
  });
  deps.log.info({ device: deviceId, revision: applied.config.serial }, 'CPE bootstrapped (factory reset?): its config will be sent again');
}

/**
 * The background sweep (every `sweepIntervalSeconds`): overdue downloads and Downloads whose session is
 * over become faults even if the CPE never comes back, so the event log shows the failure at its deadline
 * and not whenever the CPE returns. The device's `reported` state is written at its next Inform instead:
 * a report would also move its last-seen time, and the CPE was not seen.
 */
export function sweepDownloads(deps: AcsDeps, now: number): number {
  let n = 0;
  for (const { value: d } of deps.kv.entries<PendingDownload>(keys.allDownloads)) {
    const over = d.state === 'accepted' ? d.deadline <= now : deps.kv.get(keys.session(d.session)) === undefined;
    if (!over) continue;
    finish(deps, d, d.state === 'accepted' ? overdue(d) : NEVER_ACKNOWLEDGED, undefined, { quiet: true });
    n++;
  }
  return n;
}

const NEVER_ACKNOWLEDGED: FaultStruct = { faultCode: 9010, faultString: 'APS: the session ended before the Download was answered' };
const UNANSWERED: FaultStruct = { faultCode: 9010, faultString: 'APS: the CPE sent an empty POST instead of answering the Download' };

function overdue(d: PendingDownload): FaultStruct {
  return { faultCode: 9010, faultString: `APS: no TransferComplete within ${Math.round((d.deadline - d.createdAt) / 1000)} s` };
}

function verifyFirmware(deps: AcsDeps, deviceId: string, softwareVersion: string | undefined): void {
  const applied = deps.kv.get<AppliedState>(keys.applied(deviceId));
  const fw = applied?.firmware;
  if (!fw || fw.verified !== false) return;
  if (softwareVersion === fw.version) {
    deps.kv.set(keys.applied(deviceId), { ...applied, firmware: { ...fw, verified: true } } satisfies AppliedState);
    return;
  }
  deps.kv.set(keys.applied(deviceId), { ...applied, firmware: undefined } satisfies AppliedState);
  const faultString = `APS: firmware ${fw.commandKey ?? ''} reported installed, but the CPE runs ${softwareVersion ?? '(unknown)'}, not ${fw.version}`;
  recordFault(deps, deviceId, 'firmware', fw.commandKey ?? '', { faultCode: 9010, faultString }, false);
}

function wants(deps: AcsDeps, device: DeviceRecord, files: CpeFiles, kind: DownloadKind, session: SessionState): boolean {
  if (kind === 'firmware') {
    const fw = files.firmware;
    // No SoftwareVersion in the Inform (a forced parameter, TR-069 Table 5): nothing to compare, send nothing.
    return !!fw && fw.version !== '' && session.softwareVersion !== undefined && fw.version !== session.softwareVersion;
  }
  const applied = deps.kv.get<AppliedState>(keys.applied(device.id));
  return !!files.config && applied?.config?.md5 !== files.config.revision.md5;
}

/** The next Download for this session, recorded as pending; undefined when the CPE is up to date. */
export function nextDownload(
  deps: AcsDeps,
  device: DeviceRecord,
  session: SessionState,
  baseUrl: string,
  now: number,
): DownloadArgs | undefined {
  const files = cpeFiles(deps.core, device);
  const pending = pendingDownloads(deps, device.id);
  for (const kind of ['firmware', 'config'] as const) {
    if (session.sent.includes(kind) || pending.some((p) => p.kind === kind)) continue;
    const retry = deps.kv.get<RetryState>(keys.retry(device.id, kind));
    if (retry && retry.notBefore > now) continue;
    if (!wants(deps, device, files, kind, session)) continue;
    const commandKey = newCommandKey(kind, now);
    const fw = kind === 'firmware' ? files.firmware! : undefined;
    const cfg = kind === 'config' ? files.config! : undefined;
    const fileName = fw ? fw.filename : files.settings.configFileName;
    const token = deps.config.fileAuth === 'token';
    // Token mode: the URL is the credential, so the Download carries none (a CPE that honours them would
    // only be challenged for nothing).
    const dir = `${baseUrl}/${NAME}/files/${encodeURIComponent(device.id)}/${commandKey}`;
    const args: DownloadArgs = {
      commandKey,
      fileType: fw ? '1 Firmware Upgrade Image' : files.settings.configFileType,
      url: `${token ? `${dir}/${downloadToken(deps.core, device.id, commandKey)}` : dir}/${encodeURIComponent(fileName)}`,
      username: token ? '' : commandKey,
      password: token ? '' : downloadPassword(deps.core, device.id, commandKey),
      fileSize: fw ? fw.size : cfg!.bytes.length,
      targetFileName: fw ? files.settings.firmwareTargetFileName : files.settings.configFileName,
      delaySeconds: 0,
      successUrl: '',
      failureUrl: '',
    };
    // Checked before anything is recorded: a Download the codec cannot carry (a URL past the 256
    // characters of the cwmp schema: long public URL, device id and file name) is a configuration error
    // for the operator, not a download the CPE failed.
    const invalid = unsendable(args, session);
    if (invalid) {
      deps.log.error(
        { device: device.id, kind, field: invalid.field, reason: invalid.message },
        'cannot send a Download: fix the configuration (publicUrl, device id or file name)',
      );
      deps.core.events.record({
        deviceId: device.id,
        adapter: NAME,
        file: `download:${kind}`,
        status: 500,
        detail: `configuration error, no Download sent: ${invalid.message}`,
      });
      continue;
    }
    const rec: PendingDownload = {
      deviceId: device.id,
      kind,
      commandKey,
      session: session.token,
      state: 'sent',
      createdAt: now,
      deadline: now + deps.config.downloadTimeoutSeconds * 1000,
      fileName,
      size: args.fileSize,
      ...(token ? { fileAuth: 'token' as const } : {}),
      ...(fw ? { artifactId: fw.id, version: fw.version } : { configMd5: cfg!.revision.md5, configSerial: cfg!.revision.serial }),
    };
    // Kept a week past the deadline so a late TransferComplete is still recognised.
    const ttl = deps.config.downloadTimeoutSeconds * 1000 + 7 * 86_400_000;
    deps.kv.set(keys.download(device.id, commandKey), rec, ttl);
    // The config is served as announced (FileSize, revision), even if the device changes before the fetch;
    // a newer config is the next Download's.
    if (cfg) deps.kv.set(keys.file(device.id, commandKey), announced(deps, cfg), ttl);
    session.sent.push(kind);
    session.sentKeys.push(commandKey);
    deps.core.events.record({
      deviceId: device.id,
      adapter: NAME,
      file: `download:${kind}`,
      status: 200,
      detail: `Download ${commandKey} sent`,
    });
    return args;
  }
  return undefined;
}

function unsendable(args: DownloadArgs, session: SessionState): CwmpBuildError | undefined {
  try {
    buildCwmp({ kind: 'Download', ...args }, { ns: session.ns });
    return undefined;
  } catch (e) {
    if (e instanceof CwmpBuildError) return e;
    throw e;
  }
}

// The announced bytes wait in the store until the CPE fetches them; a config carries SIP and admin
// secrets, so they are sealed with the keyring like every other secret at rest.
function announced(deps: AcsDeps, f: RenderedFile): AnnouncedFile {
  const r = f.revision;
  return {
    bytes: deps.core.secrets.seal(f.bytes.toString('base64')),
    serial: r.serial,
    lastModified: r.lastModified.getTime(),
    etag: r.etag,
    sha256: r.sha256,
    md5: r.md5,
  };
}

/** The config bytes a Download announced, as a file to serve; undefined once the download is over. */
export function announcedConfig(deps: AcsDeps, d: PendingDownload): RenderedFile | undefined {
  const a = deps.kv.get<AnnouncedFile>(keys.file(d.deviceId, d.commandKey));
  const bytes = a && deps.core.secrets.open(a.bytes);
  if (!a || bytes === undefined) return undefined;
  return {
    bytes: Buffer.from(bytes, 'base64'),
    revision: { serial: a.serial, lastModified: new Date(a.lastModified), etag: a.etag, sha256: a.sha256, md5: a.md5 },
  };
}

/** DownloadResponse: Status 0 = done and applied now; 1 = a TransferComplete follows, maybe in a later session. */
export function downloadResponse(deps: AcsDeps, session: SessionState, commandKey: string, status: 0 | 1): void {
  const key = keys.download(session.deviceId, commandKey);
  const d = deps.kv.get<PendingDownload>(key);
  if (!d) return;
  if (status === 0) {
    finish(deps, d, null, session);
    return;
  }
  deps.kv.set(key, { ...d, state: 'accepted' }, Math.max(d.deadline - Date.now(), 0) + 7 * 86_400_000);
}

/** The CPE answered the Download with a CWMP Fault (9xxx): the download failed before it began. */
export function downloadRefused(deps: AcsDeps, session: SessionState, commandKey: string, fault: FaultStruct): void {
  const d = deps.kv.get<PendingDownload>(keys.download(session.deviceId, commandKey));
  if (d) finish(deps, d, fault, session);
}

/**
 * TransferComplete matched by CommandKey; 'unknown' when no pending download of this device has it.
 * `seen`: the session it came in (its SoftwareVersion, the CommandKeys it sent); a TransferComplete that
 * comes without a session passes `{ softwareVersion: undefined, sentKeys: [commandKey] }`, so a firmware
 * is verified at the next Inform.
 */
export function transferComplete(
  deps: AcsDeps,
  deviceId: string,
  seen: Seen,
  commandKey: string,
  fault: FaultStruct,
): 'ok' | 'fault' | 'unknown' {
  const d = deps.kv.get<PendingDownload>(keys.download(deviceId, commandKey));
  if (!d) return 'unknown';
  return finish(deps, d, fault.faultCode === 0 ? null : fault, seen);
}

/**
 * A Download its session left unanswered although the CPE went on (an empty POST instead of the
 * DownloadResponse): a protocol error, counted like a Download whose session ended unanswered.
 */
export function downloadUnanswered(deps: AcsDeps, deviceId: string, commandKey: string): void {
  const d = deps.kv.get<PendingDownload>(keys.download(deviceId, commandKey));
  if (d) finish(deps, d, UNANSWERED, undefined);
}

type Seen = Pick<SessionState, 'softwareVersion' | 'sentKeys'>;

function finish(
  deps: AcsDeps,
  d: PendingDownload,
  fault: FaultStruct | null,
  session: Seen | undefined,
  o: { quiet?: boolean } = {},
): 'ok' | 'fault' {
  const { core, kv } = deps;
  kv.delete(keys.download(d.deviceId, d.commandKey));
  kv.delete(keys.file(d.deviceId, d.commandKey));
  const at = new Date().toISOString();
  const sameSession = !!session && session.sentKeys.includes(d.commandKey);
  // A firmware completed in a later session must show in that session's Inform (seed 002: the CPE
  // reboots into it); one completed in the session that sent it is verified at the next Inform instead.
  if (!fault && d.kind === 'firmware' && session && !sameSession && session.softwareVersion !== d.version) {
    fault = {
      faultCode: 9010,
      faultString: `APS: transfer reported complete, but the CPE runs ${session.softwareVersion ?? '(unknown)'}, not ${d.version}`,
    };
  }
  if (fault) {
    recordFault(deps, d.deviceId, d.kind, d.commandKey, fault, o.quiet ?? false);
    return 'fault';
  }
  kv.delete(keys.retry(d.deviceId, d.kind));
  const applied = kv.get<AppliedState>(keys.applied(d.deviceId)) ?? {};
  if (d.kind === 'firmware')
    applied.firmware = { artifactId: d.artifactId!, version: d.version!, at, commandKey: d.commandKey, verified: !sameSession };
  else applied.config = { md5: d.configMd5!, serial: d.configSerial!, at };
  kv.set(keys.applied(d.deviceId), applied);
  if (d.kind === 'config') core.events.report({ deviceId: d.deviceId, reported: { configRevision: d.configSerial } });
  core.events.record({
    deviceId: d.deviceId,
    adapter: NAME,
    file: `download:${d.kind}`,
    status: 200,
    detail: `transfer complete ${d.commandKey}`,
  });
  deps.log.info({ device: d.deviceId, commandKey: d.commandKey, kind: d.kind }, 'download complete');
  return 'ok';
}

/** A failed download: the device's last fault, and no new Download of that kind before the back-off. */
function recordFault(deps: AcsDeps, deviceId: string, kind: DownloadKind, commandKey: string, fault: FaultStruct, quiet: boolean): void {
  const { core, kv } = deps;
  const prev = kv.get<RetryState>(keys.retry(deviceId, kind));
  const failures = (prev?.failures ?? 0) + 1;
  const lastFault: LastFault = {
    kind,
    commandKey,
    faultCode: fault.faultCode,
    faultString: fault.faultString,
    at: new Date().toISOString(),
  };
  const wait = backoffMs(failures, deps.config.retryBaseSeconds, deps.config.retryMaxSeconds);
  kv.set(keys.retry(deviceId, kind), { failures, notBefore: Date.now() + wait, lastFault } satisfies RetryState);
  // A fault the sweep finds while the CPE is away is on the device at once, without moving its last-seen.
  core.events.report({ deviceId, reported: { lastFault }, seen: !quiet });
  // The CPE's failure, not the server's: recorded as a device fault with its code and string (an APS
  // conclusion, such as a timeout, says "APS:" in its string); the status is the ACS's ordinary answer.
  core.events.record({
    deviceId,
    adapter: NAME,
    file: `download:${kind}`,
    status: 200,
    fault: { code: String(fault.faultCode), message: fault.faultString },
    seen: !quiet,
    detail: `fault ${fault.faultCode} for ${commandKey}; retry in ${wait / 1000} s`,
  });
  deps.log.warn(
    {
      device: deviceId,
      commandKey,
      kind,
      faultCode: fault.faultCode,
      faultString: fault.faultString,
      failures,
      retryInSeconds: wait / 1000,
    },
    'download failed',
  );
}
