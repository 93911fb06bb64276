import { createHash } from 'node:crypto';

/**
 * Where a device falls in a rollout, in [0, 1): the first 48 bits of sha256("<rollout id>:<device id>")
 * over 2^48. Stable across restarts and nodes, independent between rollouts; a stage at p % selects the
 * eligible devices whose fraction is below p / 100, so each stage keeps the devices of the one before.
 */
export function rolloutFraction(rolloutId: number, deviceId: string): number {
  return createHash('sha256').update(`${rolloutId}:${deviceId}`).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** Whether a stage at `percent` selects the device. */
export function selectedAt(rolloutId: number, deviceId: string, percent: number): boolean {
  return rolloutFraction(rolloutId, deviceId) * 100 < percent;
}
