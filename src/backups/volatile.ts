import type { Adapter } from '../adapter.ts';
import type { DeviceRecord } from '../store/index.ts';

/** The volatile-line patterns of the adapter that speaks to the device (none when its profile is gone). */
export function backupVolatileOf(
  core: { adapters: readonly Adapter[]; adapterNameOf(profile: string): string | undefined },
  device: DeviceRecord,
): RegExp[] {
  const name = core.adapterNameOf(device.profile);
  return core.adapters.find((a) => a.name === name)?.backupVolatile ?? [];
}
