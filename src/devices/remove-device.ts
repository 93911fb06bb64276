import type { AuditLog } from '../admin/audit.ts';
import type { BackupStore } from '../backups/backup-store.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { ArtifactRecord, DeviceRecord } from '../store/index.ts';
import { deviceAuditView } from './device-audit.ts';
import type { DeviceRegistry } from './registry.ts';

/**
 * Removes a device, its own artifacts (a per-device config holds its secrets) and its backups: a device
 * added later under the same id starts clean instead of inheriting them. Its revisions stay, so serials
 * keep growing. Recorded in the audit log (`device.remove`) by `who`.
 */
export async function removeDevice(
  core: { devices: DeviceRegistry; catalog: Catalog; backups: BackupStore; audit: AuditLog },
  id: string,
  who: string,
): Promise<{ device: DeviceRecord; artifacts: ArtifactRecord[]; backups: number }> {
  const backups = core.backups.list(id).length; // counted first: the rows go with the device row
  const device = core.devices.remove(id);
  core.backups.removeDevice(id);
  const artifacts = await core.catalog.removeOwnedBy(id);
  core.audit.record({
    who,
    action: 'device.remove',
    target: id,
    before: { ...deviceAuditView(device), ownArtifacts: artifacts.map((a) => a.id), backups },
  });
  return { device, artifacts, backups };
}
