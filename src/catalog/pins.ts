import type { ArtifactRecord, DeviceRecord } from '../store/index.ts';

/** The key of a target slot: the kind, or `<kind>:<role>` (`aux:cpt`). */
export function slotKey(kind: string, role = ''): string {
  return role ? `${kind}:${role}` : kind;
}

/** What a pin is checked against: a device (all fields) or a group (no device, profile or model). */
export type PinSubject = Partial<Pick<DeviceRecord, 'id' | 'profile' | 'model'>>;

/**
 * Why artifact `a` cannot be pinned in `slot` for `subject`, or undefined when it can. A pin is an
 * admin's explicit choice, but it must still name an artifact the device could be served: the right
 * slot, the device's profile and model, and never another device's own file.
 */
export function pinProblem(a: ArtifactRecord | undefined, slot: string, subject: PinSubject): string | undefined {
  if (!a) return 'no such artifact';
  if (slotKey(a.kind, a.role) !== slot) return `it is a ${slotKey(a.kind, a.role)} artifact`;
  if (a.deviceId !== null && a.deviceId !== subject.id)
    return subject.id ? `it belongs to device ${a.deviceId}` : `it belongs to device ${a.deviceId}, and a group pin is shared`;
  if (subject.profile !== undefined && a.profile !== subject.profile) return `it is for profile ${a.profile}, not ${subject.profile}`;
  if (subject.profile !== undefined && a.models.length > 0 && !(subject.model && a.models.includes(subject.model))) {
    return `it is for model${a.models.length > 1 ? 's' : ''} ${a.models.join(', ')}, not ${subject.model ?? '(no model)'}`;
  }
  return undefined;
}
