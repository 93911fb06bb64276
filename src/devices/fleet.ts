import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import type { FleetDeviceRow, FleetRow } from '../store/index.ts';

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

/** `GET /fleet`: counts per profile and version, target vs version per device, paged over device ids. */
export function fleetView(core: Pick<Core, 'store' | 'catalog'>, q: { after?: string; limit?: number } = {}): FleetView {
  const limit = q.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > FLEET_PAGE_MAX)
    throw new ApsError('bad_request', `limit must be between 1 and ${FLEET_PAGE_MAX}`);
  const profiles = new Map<string, FleetProfile>();
  const pending: FleetView['pending'] = [];
  const page: FleetDevice[] = [];
  let next: string | null = null;
  // One read of every device for the per-profile counts; the page is the active devices after `after`.
  for (const row of core.store.state.fleetDevices()) {
    const p = profiles.get(row.profile) ?? { profile: row.profile, active: 0, pending: 0, onTarget: 0, behind: 0, unknown: 0 };
    profiles.set(row.profile, p);
    if (row.status === 'pending') {
      p.pending++;
      if (pending.length < FLEET_PAGE_MAX) pending.push({ id: row.id, profile: row.profile, model: row.model, lastSeen: row.lastSeen });
      continue;
    }
    p.active++;
    const d = describe(core, row);
    if (d.target !== null) {
      if (d.version === null) p.unknown++;
      else if (d.behind) p.behind++;
      else p.onTarget++;
    }
    if (q.after !== undefined && row.id <= q.after) continue;
    if (page.length < limit) page.push(d);
    else next ??= page[page.length - 1]!.id;
  }
  return { versions: core.store.state.fleet(), profiles: [...profiles.values()], devices: page, pending, next };
}

function describe(core: Pick<Core, 'catalog'>, row: FleetDeviceRow): FleetDevice {
  const t = core.catalog.target(row, 'firmware');
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
