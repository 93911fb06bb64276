import type { AdapterServices } from '../adapter.ts';
import { ApsError } from '../errors.ts';
import type { DeviceRecord } from '../store/index.ts';
import type { RenderedFile } from './rendered-files.ts';
import type { DeviceWindow } from '../windows/gate.ts';

export interface TemplateContext {
  device: { id: string; profile: string; model: string; mac: string; group: string };
  /** Profile defaults, overridden by the group's variables, overridden by the device's. */
  vars: Record<string, string>;
  /**
   * The device's maintenance window, the parts that do not move with the clock (so a rendered file stays
   * the same between polls): `{{window.startTime}}`, `{{window.hours}}`…; null without one.
   */
  window: Pick<DeviceWindow, 'description' | 'tz' | 'hours' | 'startTime' | 'minutes'> | null;
  [extra: string]: unknown;
}

/** A device's variables as every file of it sees them: profile defaults ⊕ group ⊕ device (device wins). */
export function deviceVars(core: Pick<AdapterServices, 'profiles' | 'devices'>, device: DeviceRecord): Record<string, string> {
  const profile = core.profiles.require(device.profile);
  const group = device.group ? core.devices.group(device.group) : undefined;
  return { ...profile.vars, ...(group?.vars ?? {}), ...device.vars };
}

/** The one variable scope every template sees, whatever the adapter. */
export function templateContext(core: AdapterServices, device: DeviceRecord, extra: Record<string, unknown> = {}): TemplateContext {
  return {
    ...extra,
    device: { id: device.id, profile: device.profile, model: device.model ?? '', mac: device.mac ?? '', group: device.group ?? '' },
    vars: deviceVars(core, device),
    window: windowInput(core.windows.of(device)),
  };
}

function windowInput(w: DeviceWindow | undefined): TemplateContext['window'] {
  return w ? { description: w.description, tz: w.tz, hours: w.hours, startTime: w.startTime, minutes: w.minutes } : null;
}

/** Renders the device's profile template; undefined when the profile has none. */
export function renderProfileTemplate(
  core: AdapterServices,
  device: DeviceRecord,
  extra: Record<string, unknown> = {},
): string | undefined {
  const profile = core.profiles.require(device.profile);
  if (!profile.template) return undefined;
  try {
    return profile.template.render(templateContext(core, device, extra));
  } catch (e) {
    throw new ApsError('bad_request', `device ${device.id}: ${(e as Error).message}`);
  }
}

/**
 * A device's configuration file as a stable revision: its own (or shared) config artifact when the catalog
 * has one for it, else its profile template rendered with its variables; undefined when neither exists.
 * Cached per change like every rendered file, so a poll never re-renders.
 */
export function renderDeviceConfig(core: AdapterServices, device: DeviceRecord, file = 'config'): RenderedFile | undefined {
  const profile = core.profiles.require(device.profile);
  const artifact = core.catalog.target(device, 'config');
  if (!artifact && !profile.template) return undefined;
  return core.rendered.get(device.id, file, profile.hash, () =>
    artifact ? core.catalog.readSmall(artifact) : Buffer.from(renderProfileTemplate(core, device) ?? '', 'utf8'),
  );
}
