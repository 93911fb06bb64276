import type { BackupStore } from '../backups/backup-store.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { ArtifactRecord, DeviceRecord } from '../store/index.ts';
import type { DeviceRegistry } from './registry.ts';

/**
 * Removes a device, its own artifacts (a per-device config holds its secrets) and its backups: a device
 * added later under the same id starts clean instead of inheriting them. Its revisions stay, so serials
 * keep growing.
 */
export async function removeDevice(
  core: { devices: DeviceRegistry; catalog: Catalog; backups: BackupStore },
  id: string,
): Promise<{ device: DeviceRecord; artifacts: ArtifactRecord[]; backups: number }> {
  const backups = core.backups.list(id).length; // counted first: the rows go with the device row
  const device = core.devices.remove(id);
  core.backups.removeDevice(id);
  return { device, artifacts: await core.catalog.removeOwnedBy(id), backups };
}
