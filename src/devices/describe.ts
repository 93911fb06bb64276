import type { DeviceSetup, PreviewFile } from '../adapter.ts';
import type { CoreServices } from '../core.ts';
import type { DeviceRecord, DeviceStateRecord, EventRecord } from '../store/index.ts';
import { deviceVars } from '../render/device-template.ts';
import { deviceAuditView } from './device-audit.ts';
import { isSecretVar } from './secret-vars.ts';
import type { DeviceWindow } from '../windows/gate.ts';

export interface DeviceView {
  id: string;
  profile: string;
  adapter: string;
  model: string | null;
  mac: string | null;
  group: string | null;
  status: string;
  hasPassword: boolean;
  vars: Record<string, string>;
  pins: Record<string, number>;
  targets: Record<string, { id: number; filename: string; version: string; serial: number | null; md5: string }>;
  /** Slots whose latest artifact is not the target, and why (pinned, ranked lower by the profile's order…). */
  notes: string[];
  /**
   * Its maintenance window, open or not and when it next opens, and the slots whose target it will get
   * then (they differ from what it holds); null when changes reach it at once.
   */
  window: (DeviceWindow & { pending: string[] }) | null;
  state: Omit<DeviceStateRecord, 'deviceId'> | null;
  /** What it runs: as it says so itself (reported), else the firmware it last downloaded completely (fetched). */
  firmware: DeviceFirmware | null;
  /** Its newest event: what its last request came to (served, refused, faulted). */
  lastEvent: Pick<EventRecord, 'at' | 'file' | 'status' | 'fault'> | null;
  /** Not seen for STALE_AFTER_MS (or never seen at all). */
  stale: boolean;
  /** Its adapter can make it check for updates now (`POST /devices/:id/notify`, `aps notify`). */
  canNotify: boolean;
  setup: DeviceSetup;
  createdAt: string;
  updatedAt: string;
}

export interface DeviceFirmware {
  version: string;
  basis: 'reported' | 'fetched';
}

/** A device not heard from for a day stands out in lists (the console, `aps device list --status stale`). */
export const STALE_AFTER_MS = 24 * 3_600_000;

/** What the device says it runs, or else what it last downloaded completely, marked as such. */
export function firmwareOf(state: Pick<DeviceStateRecord, 'reported' | 'fetched'> | undefined): DeviceFirmware | null {
  const reported = state?.reported.firmware;
  if (typeof reported === 'string' || typeof reported === 'number') return { version: String(reported), basis: 'reported' };
  const fetched = state?.fetched.firmware?.version;
  return fetched ? { version: fetched, basis: 'fetched' } : null;
}

export function isStale(lastSeen: string | null | undefined, now = Date.now()): boolean {
  return !lastSeen || now - Date.parse(lastSeen) > STALE_AFTER_MS;
}

/**
 * The one description of a device, shared by `aps device show --json`, `device list` and the admin API.
 * `known` passes what a list already read for every device, so a page costs no query per device for it.
 */
export function describeDevice(
  core: CoreServices,
  d: DeviceRecord,
  known?: { state: DeviceStateRecord | undefined; lastEvent: EventRecord | undefined },
): DeviceView {
  // A device whose profile file was removed is still listed (so it can be fixed or removed), marked so.
  const adapter = core.adapterNameOf(d.profile) !== undefined ? core.adapterOf(d.profile) : undefined;
  // lastEvent() first: it writes queued events and states, so the state read next is current too.
  const last = known ? known.lastEvent : core.events.lastEvent(d.id);
  const state = known ? known.state : core.devices.state(d.id);
  const targets: DeviceView['targets'] = {};
  const all = core.catalog.targets(d);
  const window = core.windows.view(d);
  for (const [slot, a] of all) {
    targets[slot] = { id: a.id, filename: a.filename, version: a.version, serial: a.serial, md5: a.md5 };
  }
  // The masked record the audit log shows, with the adapter after the profile.
  const { id, profile, ...masked } = deviceAuditView(d);
  return {
    id,
    profile,
    adapter: adapter?.name ?? '(profile missing)',
    ...masked,
    targets,
    notes: core.catalog.slotNotes(d),
    window: window ? { ...window, pending: core.windows.pendingSlots(d, all) } : null,
    state: state
      ? { lastSeen: state.lastSeen, lastIp: state.lastIp, lastUa: state.lastUa, reported: state.reported, fetched: state.fetched }
      : null,
    firmware: firmwareOf(state),
    lastEvent: last ? { at: last.at, file: last.file, status: last.status, fault: last.fault } : null,
    stale: isStale(state?.lastSeen),
    canNotify: adapter?.notify !== undefined,
    setup: adapter
      ? adapter.setup(d, core.servicesFor(adapter.name, { readOnly: true }), core.adapterConfig(adapter.name))
      : {
          url: '',
          hints: [
            `Profile "${d.profile}" does not exist any more: restore its file or move the device with aps device set ${d.id} --profile P.`,
          ],
        },
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/**
 * What the device would receive now, shared by `aps preview` and the admin API. Rendered through a
 * read-only view of the rendered files, so looking never changes a revision a device compares.
 */
export function previewDevice(core: CoreServices, d: DeviceRecord): PreviewFile[] {
  const adapter = core.adapterOf(d.profile);
  return adapter.preview(d, core.servicesFor(adapter.name, { readOnly: true }), core.adapterConfig(adapter.name));
}

/** Shorter values are left alone: masking "1" would blot out every 1 in the file and hide nothing. */
const MIN_MASKED = 4;

/**
 * The preview with the device's secrets (its clear password, the values of its secret-looking variables
 * from profile, group and device) replaced by ********: what the console shows until the admin reveals them.
 */
export function maskPreview(core: CoreServices, d: DeviceRecord, files: PreviewFile[]): PreviewFile[] {
  const secrets = [
    core.devices.secretOf(d),
    ...Object.entries(deviceVars(core, d))
      .filter(([k]) => isSecretVar(k))
      .map(([, v]) => v),
  ]
    .filter((v): v is string => v !== undefined && v.length >= MIN_MASKED)
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return files;
  return files.map((f) => (f.text === undefined ? f : { ...f, text: secrets.reduce((t, s) => t.split(s).join('********'), f.text) }));
}
