// Which Download RPC a CPE gets, and what happens to it until TransferComplete (TR-069 §A.3.2.8,
// §A.3.3.2; seed 002 "Configuration Update" flow). Faults are values: stored as the device's last fault
// and retried with back-off, never in a loop.
import { randomBytes } from 'node:crypto';
import type { AdapterServices } from '../../src/core.ts';
import type { KvState } from '../../src/kv-state.ts';
import type { Logger } from '../../src/log.ts';
import type { RenderedFile } from '../../src/render/rendered-files.ts';
import { renderDeviceConfig } from '../../src/render/device-template.ts';
import type { ArtifactRecord, DeviceRecord } from '../../src/store/index.ts';
import { profileSchema, type Tr069Config, type Tr069Settings } from './settings.ts';
import type { DownloadArgs, FaultStruct } from './soap.ts';
import { backoffMs, keys, type AppliedState, type DownloadKind, type LastFault, type PendingDownload, type RetryState, type SessionState } from './state.ts';

export const NAME = 'tr069';

export interface AcsDeps {
  core: AdapterServices;
  config: Tr069Config;
  log: Logger;
  kv: KvState;
}

export interface CpeFiles {
  settings: Tr069Settings;
  firmware?: ArtifactRecord;
  /** The device's config artifact, else the profile template, as a stable revision. */
  config?: RenderedFile;
}

export function cpeFiles(core: AdapterServices, device: DeviceRecord): CpeFiles {
  const settings = profileSchema.parse(core.profiles.require(device.profile).settings ?? {});
  return { settings, firmware: core.catalog.target(device, 'firmware'), config: renderDeviceConfig(core, device) };
}

/** Per-download file-server password: derived, never stored, useless for any other download. */
export function downloadPassword(core: AdapterServices, deviceId: string, commandKey: string): string {
  return core.keys.hmac('tr069-download', `${deviceId}\0${commandKey}`).toString('base64url').slice(0, 24);
}

/** Unique, at most 32 characters (cwmp xsd), URL-safe: it is also a path segment of the file URL. */
function newCommandKey(kind: DownloadKind, now: number): string {
  return `${kind === 'firmware' ? 'fw' : 'cf'}-${now.toString(36)}-${randomBytes(6).toString('hex')}`;
}

export function pendingDownloads(deps: AcsDeps, deviceId: string): PendingDownload[] {
  return deps.kv.entries<PendingDownload>(keys.downloadsOf(deviceId)).map((e) => e.value);
}

/**
 * Before planning: a Download its session never acknowledged is dropped; one accepted (Status 1) whose
 * TransferComplete is overdue becomes a fault (issue #4: "a download that never completes times out").
 */
export function expireDownloads(deps: AcsDeps, deviceId: string, currentSession: string, now: number): void {
  for (const d of pendingDownloads(deps, deviceId)) {
    if (d.state === 'sent' && d.session !== currentSession) {
      deps.kv.delete(keys.download(deviceId, d.commandKey));
      deps.log.info({ device: deviceId, commandKey: d.commandKey }, 'Download never acknowledged; dropped');
    } else if (d.state === 'accepted' && d.deadline <= now) {
      const secs = Math.round((d.deadline - d.createdAt) / 1000);
      finish(deps, d, { faultCode: 9010, faultString: `APS: no TransferComplete within ${secs} s` }, undefined);
    }
  }
}

function wants(deps: AcsDeps, device: DeviceRecord, files: CpeFiles, kind: DownloadKind, session: SessionState): boolean {
  if (kind === 'firmware') {
    const fw = files.firmware;
    return !!fw && fw.version !== '' && fw.version !== session.softwareVersion;
  }
  const applied = deps.kv.get<AppliedState>(keys.applied(device.id));
  return !!files.config && applied?.config?.md5 !== files.config.revision.md5;
}

/** The next Download for this session, recorded as pending; undefined when the CPE is up to date. */
export function nextDownload(deps: AcsDeps, device: DeviceRecord, session: SessionState, baseUrl: string, now: number): DownloadArgs | undefined {
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
    const rec: PendingDownload = {
      deviceId: device.id,
      kind,
      commandKey,
      session: session.token,
      state: 'sent',
      createdAt: now,
      deadline: now + deps.config.downloadTimeoutSeconds * 1000,
      fileName,
      size: fw ? fw.size : cfg!.bytes.length,
      ...(fw ? { artifactId: fw.id, version: fw.version } : { configMd5: cfg!.revision.md5, configSerial: cfg!.revision.serial }),
    };
    // Kept a week past the deadline so a late TransferComplete is still recognised.
    deps.kv.set(keys.download(device.id, commandKey), rec, deps.config.downloadTimeoutSeconds * 1000 + 7 * 86_400_000);
    session.sent.push(kind);
    session.sentKeys.push(commandKey);
    deps.core.events.record({ deviceId: device.id, adapter: NAME, file: `download:${kind}`, status: 200, detail: `Download ${commandKey} sent` });
    return {
      commandKey,
      fileType: fw ? '1 Firmware Upgrade Image' : files.settings.configFileType,
      url: `${baseUrl}/${NAME}/files/${encodeURIComponent(device.id)}/${commandKey}/${encodeURIComponent(fileName)}`,
      username: commandKey,
      password: downloadPassword(deps.core, device.id, commandKey),
      fileSize: rec.size,
      targetFileName: fw ? files.settings.firmwareTargetFileName : files.settings.configFileName,
      delaySeconds: 0,
      successUrl: '',
      failureUrl: '',
    };
  }
  return undefined;
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

/** TransferComplete matched by CommandKey; 'unknown' when no pending download of this device has it. */
export function transferComplete(deps: AcsDeps, session: SessionState, commandKey: string, fault: FaultStruct): 'ok' | 'fault' | 'unknown' {
  const d = deps.kv.get<PendingDownload>(keys.download(session.deviceId, commandKey));
  if (!d) return 'unknown';
  return finish(deps, d, fault.faultCode === 0 ? null : fault, session);
}

function finish(deps: AcsDeps, d: PendingDownload, fault: FaultStruct | null, session: SessionState | undefined): 'ok' | 'fault' {
  const { core, kv } = deps;
  kv.delete(keys.download(d.deviceId, d.commandKey));
  const at = new Date().toISOString();
  // A firmware completed in a later session must show in that session's Inform (seed 002: the CPE
  // reboots into it); one completed in the session that sent it is verified at the next Inform instead.
  if (!fault && d.kind === 'firmware' && session && !session.sentKeys.includes(d.commandKey) && session.softwareVersion !== d.version) {
    fault = { faultCode: 9010, faultString: `APS: transfer reported complete, but the CPE runs ${session.softwareVersion ?? '(unknown)'}, not ${d.version}` };
  }
  if (fault) {
    const prev = kv.get<RetryState>(keys.retry(d.deviceId, d.kind));
    const failures = (prev?.failures ?? 0) + 1;
    const lastFault: LastFault = { kind: d.kind, commandKey: d.commandKey, faultCode: fault.faultCode, faultString: fault.faultString, at };
    const wait = backoffMs(failures, deps.config.retryBaseSeconds, deps.config.retryMaxSeconds);
    kv.set(keys.retry(d.deviceId, d.kind), { failures, notBefore: Date.now() + wait, lastFault } satisfies RetryState);
    core.events.report({ deviceId: d.deviceId, reported: { lastFault } });
    core.events.record({ deviceId: d.deviceId, adapter: NAME, file: `download:${d.kind}`, status: 500, detail: `fault ${fault.faultCode} for ${d.commandKey}; retry in ${wait / 1000} s` });
    deps.log.warn({ device: d.deviceId, commandKey: d.commandKey, kind: d.kind, faultCode: fault.faultCode, faultString: fault.faultString, failures, retryInSeconds: wait / 1000 }, 'download failed');
    return 'fault';
  }
  kv.delete(keys.retry(d.deviceId, d.kind));
  const applied = kv.get<AppliedState>(keys.applied(d.deviceId)) ?? {};
  if (d.kind === 'firmware') applied.firmware = { artifactId: d.artifactId!, version: d.version!, at };
  else applied.config = { md5: d.configMd5!, serial: d.configSerial!, at };
  kv.set(keys.applied(d.deviceId), applied);
  if (d.kind === 'config') core.events.report({ deviceId: d.deviceId, reported: { configRevision: d.configSerial } });
  core.events.record({ deviceId: d.deviceId, adapter: NAME, file: `download:${d.kind}`, status: 200, detail: `transfer complete ${d.commandKey}` });
  deps.log.info({ device: d.deviceId, commandKey: d.commandKey, kind: d.kind }, 'download complete');
  return 'ok';
}
