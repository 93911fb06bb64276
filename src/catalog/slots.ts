import { ApsError } from '../errors.ts';
import type { ArtifactKind } from '../store/index.ts';
import { slotKey } from './pins.ts';

/**
 * A kind of artifact an adapter serves. `roles`: omitted, only without a role (`firmware`); a list, exactly
 * those roles (`aux:cpt`; include '' to also accept none); 'any', any role or none.
 */
export interface ArtifactSlot {
  kind: ArtifactKind;
  roles?: readonly string[] | 'any';
}

/** Refuses an artifact kind and role the profile's adapter never serves, naming what the profile accepts. */
export function assertServedSlot(profile: string, slots: readonly ArtifactSlot[] | undefined, kind: ArtifactKind, role: string): void {
  if (!slots) return; // an adapter that declares nothing accepts every kind (the contract field is optional)
  const ok = slots.some((s) => s.kind === kind && (s.roles === 'any' || (s.roles === undefined ? role === '' : s.roles.includes(role))));
  if (ok) return;
  throw new ApsError(
    'bad_request',
    `profile ${profile} accepts ${describeSlots(slots)}; not ${slotKey(kind, role)} (its adapter never serves such a file)`,
  );
}

/** "firmware, config, aux:cpt, aux:prt" or "aux:<any role>". */
export function describeSlots(slots: readonly ArtifactSlot[]): string {
  return slots
    .flatMap((s) =>
      s.roles === 'any' ? [`${s.kind}:<any role>`] : s.roles === undefined ? [s.kind] : s.roles.map((r) => slotKey(s.kind, r)),
    )
    .join(', ');
}
