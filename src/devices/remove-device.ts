import type { Catalog } from '../catalog/catalog.ts';
import type { ArtifactRecord, DeviceRecord } from '../store/index.ts';
import type { DeviceRegistry } from './registry.ts';

/**
 * Removes a device and its own artifacts (a per-device config holds its secrets): a device added later
 * under the same id starts clean instead of inheriting them. Its revisions stay, so serials keep growing.
 */
export async function removeDevice(
  core: { devices: DeviceRegistry; catalog: Catalog },
  id: string,
): Promise<{ device: DeviceRecord; artifacts: ArtifactRecord[] }> {
  const device = core.devices.remove(id);
  return { device, artifacts: await core.catalog.removeOwnedBy(id) };
}
