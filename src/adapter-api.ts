// The public adapter API: the one core module an adapter (and its simulator and tests' production code)
// may import. Everything an adapter needs is re-exported here; everything else in src/ is private to the
// core and may change without notice. The lint rule in eslint.config.js enforces the boundary.
export { defineAdapter } from './adapter.ts';
export type {
  Adapter,
  AdapterCli,
  AdapterContext,
  AdapterSecrets,
  AdapterServices,
  ArtifactSlot,
  CatalogReader,
  CatalogWriter,
  DeviceDirectory,
  DeviceSetup,
  EventService,
  FileResponder,
  NotifyResult,
  PreviewFile,
  ProfileFiles,
  ProfileReader,
  PublicUrls,
  BackupService,
  RolloutHealth,
  WindowService,
} from './adapter.ts';
export type { DeviceWindow } from './windows/gate.ts';
export { addressSubject, parseNetworks, type NetworkList } from './transport/networks.ts';
export { loginMatches, type AccessPolicy, type Identified } from './transport/device-access.ts';
export { ApsError, isApsError, type ApsErrorCode } from './errors.ts';
export type { ArtifactKind, ArtifactRecord, DeviceRecord, DeviceStateRecord, EventRecord, GroupRecord } from './store/index.ts';
export type { BackupPutInput, BackupRecord } from './backups/backup-store.ts';
export type { DeviceRequestInfo } from './transport/device-files.ts';
export type { FtpEntry, FtpLogin, FtpView } from './transport/ftp-mount.ts';
export type { AdapterState } from './kv-state.ts';
export type { Logger } from './log.ts';
export type { RenderedFile } from './render/rendered-files.ts';
export type { Revision } from './render/revisions.ts';
export { deviceVars, templateContext, renderDeviceConfig, renderProfileTemplate, type TemplateContext } from './render/device-template.ts';
export { compileTemplate } from './profiles/profiles.ts';
export { profileSettings } from './profiles/profile-settings.ts';
export { compareVersions } from './catalog/version-order.ts';
export { normalizeMac } from './devices/mac.ts';
export { secretsEqual } from './devices/secrets.ts';
export { isSecretVar } from './devices/secret-vars.ts';
export type { Profile } from './profiles/profiles.ts';
export {
  digestAuthorization,
  digestChallenge,
  digestNonceIssued,
  digestUsername,
  nonceCountCheck,
  parseAuthChallenges,
  parseAuthCredentials,
  parseBasic,
  quoteString,
  verifyDigest,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_NONCE_TTL_MS,
  type DigestVerifyResult,
} from './transport/digest.ts';
export { sipCheckSync, sipPushConfig, sipTargetFromVars, type SipVarNames } from './push/check-sync.ts';
// Simulators: the HTTP client and option helpers every device simulator shares.
export { simRequest, type SimRequest, type SimResponse } from './sim/http-client.ts';
export { parseDuration, MAX_TIMER_MS } from './duration.ts';
export { addTlsOptions, positiveInt, tlsFromOptions } from './sim/cli-options.ts';
export { startSipListener, type SipListener, type SipListenerOptions } from './sim/sip-listener.ts';
// A simulator is a device program with files of its own (its state between runs): written atomically like
// every file APS writes. Adapters themselves never write the disk.
export { writeFileAtomic as writeSimulatorFile } from './fs-atomic.ts';
