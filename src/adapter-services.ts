// Builds the narrow services one adapter receives (the AdapterServices of src/adapter.ts) from the core.
// Nothing here hands out the store, the keyring or another adapter's state: lookups are filtered to the
// adapter's own profiles, keys are derived under the adapter's name, and kv state is its own namespace.
import type {
  Adapter,
  AdapterServices,
  BackupService,
  CatalogReader,
  DeviceDirectory,
  EventService,
  FileResponder,
  ProfileReader,
  RenderedFileService,
  RevisionService,
  WindowService,
} from './adapter.ts';
import type { Core } from './core.ts';
import { ApsError } from './errors.ts';
import { receiveBackup } from './backups/receive.ts';
import { slotKey } from './catalog/pins.ts';
import { adapterState } from './kv-state.ts';
import { sipCheckSync } from './push/check-sync.ts';
import type { RenderedFile } from './render/rendered-files.ts';
import type { ArtifactRecord, DeviceRecord } from './store/index.ts';
import { deviceAccess } from './transport/device-access.ts';

export interface ServicesOptions {
  /** Previews render through a read-only view, so looking never moves a revision a device compares. */
  readOnly?: boolean;
  /**
   * Ignore maintenance windows and hand every rendered file to this callback: what a device would get
   * when its window opens (the push at a window's start asks which devices have a change pending).
   */
  probe?: (deviceId: string, file: string, f: RenderedFile) => void;
}

export function buildAdapterServices(core: Core, adapter: Adapter, opts: ServicesOptions = {}): AdapterServices {
  const name = adapter.name;
  const mine = (d: DeviceRecord | undefined): DeviceRecord | undefined => (d && core.adapterNameOf(d.profile) === name ? d : undefined);
  const ownProfile = (profile: string): boolean => core.adapterNameOf(profile) === name;

  const devices: DeviceDirectory = {
    get: (id) => mine(core.devices.get(id)),
    getByMac: (mac) => mine(core.devices.getByMac(mac)),
    list: () => core.devices.list().filter((d) => ownProfile(d.profile)),
    countPending: () => core.devices.countPending(ownProfile),
    state: (id) => (mine(core.devices.get(id)) ? core.devices.state(id) : undefined),
    group: (g) => core.devices.group(g),
    upsert(input, mode) {
      const prev = core.devices.get(input.id);
      // An adapter registers and changes only its own devices: a CPE naming another family's device id
      // gets a conflict, never that device.
      if (prev && !ownProfile(prev.profile)) throw new ApsError('conflict', `device ${input.id} belongs to another device family`);
      const profile = input.profile ?? prev?.profile;
      if (profile !== undefined && !ownProfile(profile)) throw new ApsError('bad_request', `profile "${profile}" is not a ${name} profile`);
      return core.devices.upsert(input, mode);
    },
    verifyPassword: (d, pw) => core.devices.verifyPassword(d, pw),
    rejectUnknown: (u, pw) => core.devices.rejectUnknown(u, pw, adapter.credentials),
    secretOf: (d) => (mine(d) ? core.devices.secretOf(d) : undefined),
  };

  const profiles: ProfileReader = {
    get: (p) => {
      const found = core.profiles.get(p);
      return found?.adapter === name ? found : undefined;
    },
    require: (p) => {
      const found = core.profiles.require(p);
      if (found.adapter !== name) throw new ApsError('bad_request', `profile "${p}" is not a ${name} profile`);
      return found;
    },
    list: () => core.profiles.list().filter((p) => p.adapter === name),
  };

  // Artifacts of other families (another device's own config among them) are not the adapter's to read.
  const ownArtifact = (a: ArtifactRecord): ArtifactRecord => {
    if (!ownProfile(a.profile)) throw new ApsError('not_found', `no ${name} artifact ${a.id}`);
    return a;
  };
  // Maintenance windows sit after target selection: what the catalog chose is offered only inside the
  // device's window (src/windows/gate.ts); a probe looks past the window.
  const gated = !opts.probe;
  const catalog: CatalogReader = {
    target: (d, kind, role) => {
      if (!ownProfile(d.profile)) return undefined;
      const t = core.catalog.target(d, kind, role);
      return gated ? core.windows.offered(d, slotKey(kind, role), t) : t;
    },
    targets: (d) => {
      if (!ownProfile(d.profile)) return new Map();
      const t = core.catalog.targets(d);
      return gated ? core.windows.offeredTargets(d, t) : t;
    },
    get: (id) => {
      const a = core.catalog.get(id);
      return a && ownProfile(a.profile) ? a : undefined;
    },
    readSmall: (a, max) => core.catalog.readSmall(ownArtifact(a), max),
    blobPath: (a) => core.catalog.blobs.pathOf(ownArtifact(a).sha256),
  };

  const renderedSource = opts.readOnly ? core.rendered.readOnly() : core.rendered;
  const rendered: RenderedFileService = {
    get: (id, file, key, render) => {
      // Outside its window a device is given the bytes it holds, byte for byte (same serial and ETag).
      const device = mine(core.devices.get(id));
      if (device && gated && core.windows.mode(device) === 'hold') {
        const held = core.windows.heldFile(id, file);
        if (held)
          return { bytes: held, revision: opts.readOnly ? core.revisions.peek(id, file, held) : core.revisions.stamp(id, file, held) };
      }
      const f = renderedSource.get(id, file, `${key}|${core.windows.cacheToken(device)}`, render);
      if (opts.probe) opts.probe(id, file, f);
      else if (device && !opts.readOnly) core.windows.noteRendered(device, file, f.bytes, f.revision.sha256);
      return f;
    },
    artifactSerial: (id, slot, a) => renderedSource.artifactSerial(id, slot, a),
  };

  // Plain objects with bound methods: the adapter holds functions, not the core's instances (which hold the store).
  const files: FileResponder = {
    sendArtifact: (req, res, a, info, type) => core.files.sendArtifact(req, res, a, info, type),
    sendRendered: (req, res, f, info, type) => core.files.sendRendered(req, res, f, info, type),
    deny: (req, res, status, reason, info, headers) => core.files.deny(req, res, status, reason, info, headers),
    artifactDate: (id, file, a) => core.files.artifactDate(id, file, a),
  };
  const revisions: RevisionService = {
    stamp: (id, file, bytes) => core.revisions.stamp(id, file, bytes),
    peek: (id, file, bytes) => core.revisions.peek(id, file, bytes),
    current: (id, file) => core.revisions.current(id, file),
  };
  const windows: WindowService = {
    of: (d) => (ownProfile(d.profile) ? core.windows.view(d) : undefined),
    holds: (d) => ownProfile(d.profile) && core.windows.mode(d) === 'hold',
  };
  const events: EventService = { record: (e) => core.events.record(e), report: (r) => core.events.report(r) };
  const secrets: AdapterServices['secrets'] = {
    key: (purpose) => core.keys.key(`${name}-${purpose}`),
    hmac: (purpose, data) => core.keys.hmac(`${name}-${purpose}`, data),
    seal: (plain) => core.keys.encrypt(plain),
    open: (box) => core.keys.decrypt(box),
  };

  const own = (id: string): string => {
    if (!mine(core.devices.get(id))) throw new ApsError('not_found', `no device ${id}`);
    return id;
  };
  const log = core.log.child({ adapter: name });
  const backups: BackupService = {
    put: (body, input) => core.backups.put(body, { ...input, deviceId: own(input.deviceId) }),
    list: (id) => (mine(core.devices.get(id)) ? core.backups.list(id) : []),
    get: (id, seq) => (mine(core.devices.get(id)) ? core.backups.get(id, seq) : undefined),
    latest: (id, slot) => (mine(core.devices.get(id)) ? core.backups.latest(id, slot) : undefined),
    read: (id, seq) => core.backups.read(own(id), seq),
    // Tracked: a cut upload records its 499 only once its body stream has failed, after the connection closed.
    receive: (req, res, info, input) =>
      core.inFlight.track(
        receiveBackup(
          { put: (body, i) => core.backups.put(body, { ...i, deviceId: own(i.deviceId) }), events, log },
          req,
          res,
          info,
          input,
        ),
      ),
  };

  const state = adapterState(core.stateOf(name));
  return {
    name,
    log,
    // The same object the server fills in once it listens (ports chosen by the OS), read-only here.
    urls: core.urls,
    catalog,
    devices,
    profiles,
    revisions,
    rendered,
    events,
    files,
    secrets,
    push: { sipCheckSync },
    state,
    access: deviceAccess({ devices, files, digestKey: secrets.key('digest'), nonceCounts: state, adapter: name, guard: core.guard }),
    backups,
    windows,
  };
}
