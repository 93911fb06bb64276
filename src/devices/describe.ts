import type { DeviceSetup, PreviewFile } from '../adapter.ts';
import type { CoreServices } from '../core.ts';
import type { DeviceRecord, DeviceStateRecord } from '../store/index.ts';
import { maskVars } from './secret-vars.ts';
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
  setup: DeviceSetup;
  createdAt: string;
  updatedAt: string;
}

/** The one description of a device, shared by `aps device show --json` and the admin API. */
export function describeDevice(core: CoreServices, d: DeviceRecord): DeviceView {
  // A device whose profile file was removed is still listed (so it can be fixed or removed), marked so.
  const adapter = core.adapterNameOf(d.profile) !== undefined ? core.adapterOf(d.profile) : undefined;
  const state = core.devices.state(d.id);
  const targets: DeviceView['targets'] = {};
  const all = core.catalog.targets(d);
  const window = core.windows.view(d);
  for (const [slot, a] of all) {
    targets[slot] = { id: a.id, filename: a.filename, version: a.version, serial: a.serial, md5: a.md5 };
  }
  return {
    id: d.id,
    profile: d.profile,
    adapter: adapter?.name ?? '(profile missing)',
    model: d.model,
    mac: d.mac,
    group: d.group,
    status: d.status,
    hasPassword: d.passwordHash !== null,
    vars: maskVars(d.vars),
    pins: d.pins,
    targets,
    notes: core.catalog.slotNotes(d),
    window: window ? { ...window, pending: core.windows.pendingSlots(d, all) } : null,
    state: state
      ? { lastSeen: state.lastSeen, lastIp: state.lastIp, lastUa: state.lastUa, reported: state.reported, fetched: state.fetched }
      : null,
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
