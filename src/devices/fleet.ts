import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import type { ArtifactRecord, FleetDeviceRow, FleetRow } from '../store/index.ts';

/** One active device: its firmware target against the version it reports (or last fetched). */
export interface FleetDevice {
  id: string;
  profile: string;
  model: string | null;
  /** The target firmware's version ('' when it has none), or null when the catalog has no firmware for it. */
  target: string | null;
  targetId: number | null;
  version: string | null;
  basis: FleetDeviceRow['basis'];
  /** Known to run something other than its target (behind it, or ahead after a pin to an older one). */
  behind: boolean;
  lastSeen: string | null;
}

export interface FleetProfile {
  profile: string;
  active: number;
  pending: number;
  /** Active devices known to run their target firmware. */
  onTarget: number;
  /** Active devices known to run another firmware than their target. */
  behind: number;
  /** Active devices with a target whose version is not known yet (never reported, never fetched). */
  unknown: number;
}

export interface FleetView {
  /** The per-profile, per-version counts `GET /fleet` always gave (unchanged fields). */
  versions: FleetRow[];
  profiles: FleetProfile[];
  /** One page of active devices in id order. */
  devices: FleetDevice[];
  /** Devices waiting for approval (not served), apart from the active ones. */
  pending: Array<{ id: string; profile: string; model: string | null; lastSeen: string | null }>;
  /** The `after` of the next page, or null on the last one. */
  next: string | null;
}

export const FLEET_PAGE_MAX = 1000;

/**
 * `GET /fleet`: counts per profile and version, target vs version per device, paged over device ids. The
 * counts come from SQL groups of devices that share a target (one target per profile, model and group) plus
 * the few devices with something of their own, each asked; only the page and the pending list are rows.
 */
export function fleetView(core: Pick<Core, 'store' | 'catalog'>, q: { after?: string; limit?: number } = {}): FleetView {
  const limit = q.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > FLEET_PAGE_MAX)
    throw new ApsError('bad_request', `limit must be between 1 and ${FLEET_PAGE_MAX}`);
  const profiles = new Map<string, FleetProfile>();
  const firstOf = new Map<string, string>();
  const count = (
    row: { profile: string; status: 'active' | 'pending'; version: string | null },
    first: string,
    n: number,
    target: () => ArtifactRecord | undefined,
  ): void => {
    const p = profiles.get(row.profile) ?? { profile: row.profile, active: 0, pending: 0, onTarget: 0, behind: 0, unknown: 0 };
    profiles.set(row.profile, p);
    const was = firstOf.get(row.profile);
    if (was === undefined || first < was) firstOf.set(row.profile, first);
    if (row.status === 'pending') {
      p.pending += n;
      return;
    }
    p.active += n;
    const t = target();
    if (t === undefined) return;
    if (row.version === null) p.unknown += n;
    else if (row.version !== t.version) p.behind += n;
    else p.onTarget += n;
  };
  const shared = core.catalog.fleetShared();
  for (const c of core.store.state.fleetCounts(shared))
    count(c, c.firstId, c.devices, () =>
      core.catalog.target({ id: c.firstId, profile: c.profile, model: c.model, group: c.group, pins: {} }, 'firmware'),
    );
  for (const row of core.store.state.fleetDevices({ notShared: shared })) count(row, row.id, 1, () => core.catalog.target(row, 'firmware'));
  const rows = core.store.state.fleetDevices({ status: 'active', after: q.after, limit: limit + 1 });
  const page = rows.slice(0, limit).map((row) => describe(core.catalog.target(row, 'firmware'), row));
  const pending = core.store.state
    .fleetDevices({ status: 'pending', limit: FLEET_PAGE_MAX })
    .map((row) => ({ id: row.id, profile: row.profile, model: row.model, lastSeen: row.lastSeen }));
  // Profiles in the order a walk over the device ids meets them.
  const ordered = [...profiles.values()].sort((x, y) => (firstOf.get(x.profile)! < firstOf.get(y.profile)! ? -1 : 1));
  return {
    versions: core.store.state.fleet(),
    profiles: ordered,
    devices: page,
    pending,
    next: rows.length > limit ? page[page.length - 1]!.id : null,
  };
}

function describe(t: ArtifactRecord | undefined, row: FleetDeviceRow): FleetDevice {
  return {
    id: row.id,
    profile: row.profile,
    model: row.model,
    target: t ? t.version : null,
    targetId: t?.id ?? null,
    version: row.version,
    basis: row.basis,
    behind: t !== undefined && row.version !== null && row.version !== t.version,
    lastSeen: row.lastSeen,
  };
}
