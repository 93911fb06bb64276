import type { CoreServices } from '../core.ts';
import { ApsError } from '../errors.ts';
import type { DeviceRecord, DeviceStateRecord, EventRecord } from '../store/index.ts';
import { describeDevice, firmwareOf, isStale, type DeviceView } from './describe.ts';

/** Pages of `GET /devices`, `GET /events` and their CLI verbs: 100 unless asked, never more than 1000. */
export const PAGE_DEFAULT = 100;
export const PAGE_MAX = 1000;

/** A page of a list and the cursor of the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** `status`: the device's own (active, pending), or what its last request came to / when it was last seen. */
export const DEVICE_STATUSES = ['active', 'pending', 'refused', 'faulted', 'stale'] as const;
export type DeviceStatusFilter = (typeof DEVICE_STATUSES)[number];

export interface DeviceListQuery {
  adapter?: string;
  profile?: string;
  group?: string;
  /** The firmware version it runs (reported, else fetched). */
  version?: string;
  status?: string;
  /** Part of the id, the MAC (any spelling) or the last IP address. */
  q?: string;
  /** The id after which the page starts (the previous page's `next`). */
  after?: string;
  /** A number, or the text of a query parameter or CLI flag (checked by pageLimit). */
  limit?: number | string;
}

/** A page size from a query string or CLI flag: a 400 naming the parameter unless 1..PAGE_MAX. */
export function pageLimit(value: unknown, name = 'limit'): number {
  if (value === undefined || value === '') return PAGE_DEFAULT;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > PAGE_MAX)
    throw new ApsError('bad_request', `${name} must be an integer from 1 to ${PAGE_MAX}`);
  return n;
}

function refused(e: EventRecord | undefined): boolean {
  return e !== undefined && e.status >= 400 && e.fault === null;
}

/**
 * Devices in id order, filtered, one page at a time. The cursor, profile, adapter, group, own status and text
 * filters run in SQL from the primary key (DeviceRegistry.scan), so a page reads about the rows it returns;
 * version and stale read the state joined to each row, refused/faulted every device's last event (one read).
 * Only the page is opened (secrets) and described (targets, setup).
 */
export function listDevices(core: CoreServices, query: DeviceListQuery): Page<DeviceView> {
  const limit = pageLimit(query.limit);
  if (query.status && !(DEVICE_STATUSES as readonly string[]).includes(query.status))
    throw new ApsError('bad_request', `status must be one of ${DEVICE_STATUSES.join(', ')}`);
  const q = query.q?.trim().toLowerCase();
  // A MAC is stored as 12 hex digits: a search typed with separators matches it too.
  const qMac = q?.replace(/[:.\-\s]/g, '');
  core.events.flush(); // queued sightings and states first
  // Only the refused/faulted filters need every device's last event; a page reads its own devices' ones.
  const lastEvents = query.status === 'refused' || query.status === 'faulted' ? core.events.lastEvents() : undefined;
  // The adapter filter as the profiles of that adapter that have devices (profiles may be added at run time).
  const profiles = query.adapter
    ? core.devices
        .countByProfile()
        .map((p) => p.profile)
        .filter((p) => core.adapterNameOf(p) === query.adapter && (!query.profile || p === query.profile))
    : query.profile
      ? [query.profile]
      : undefined;
  const own = query.status === 'active' || query.status === 'pending' ? query.status : undefined;
  const now = Date.now();
  const found: Array<{ device: DeviceRecord; state: DeviceStateRecord | undefined }> = [];
  // Collect first (the scan holds the connection), then describe: describing the page queries the store.
  // A version made of characters JSON never escapes appears as such in the state's JSON text: SQL drops
  // the devices whose state cannot hold it before JS compares the version exactly.
  const stateHas = query.version && /^[\w.+-]+$/.test(query.version) ? query.version : undefined;
  const scan = core.devices.scan({ after: query.after, profiles, group: query.group, status: own, q: q || undefined, qMac, stateHas });
  for (const row of scan) {
    const { device: d, state } = row;
    const last = lastEvents?.get(d.id);
    if (query.version && firmwareOf(state)?.version !== query.version) continue;
    if (query.status === 'refused' && !refused(last)) continue;
    if (query.status === 'faulted' && !last?.fault) continue;
    if (query.status === 'stale' && !isStale(state?.lastSeen, now)) continue;
    found.push(row);
    if (found.length > limit) break;
  }
  const page = found.slice(0, limit);
  return {
    items: page.map(({ device, state }) =>
      describeDevice(core, core.devices.open(device), {
        state,
        lastEvent: lastEvents ? lastEvents.get(device.id) : core.events.lastEvent(device.id),
      }),
    ),
    next: found.length > limit ? page[page.length - 1]!.device.id : null,
  };
}
