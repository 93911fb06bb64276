import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import { pageLimit, type Page } from '../devices/device-list.ts';
import type { EventRecord } from '../store/index.ts';

export interface EventListQuery {
  device?: string;
  adapter?: string;
  /** The cursor: events older than this id (the previous page's `next`); the list is newest first. */
  after?: string;
  /** Only events newer than this id (catching up after a gap, e.g. a dropped live stream). */
  since?: string;
  limit?: number | string;
}

function eventId(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new ApsError('bad_request', `${name} must be a non-negative integer`);
  return Number(value);
}

/** Recorded device requests, newest first, one page at a time (`GET /events`, `aps events`). */
export function listEvents(core: Pick<Core, 'events' | 'store'>, query: EventListQuery): Page<EventRecord> {
  const limit = pageLimit(query.limit);
  const beforeId = eventId(query.after, 'after');
  const afterId = eventId(query.since, 'since');
  core.events.flush();
  // One more than the page: whether there is a next page without a count.
  const rows = core.store.state.events({ deviceId: query.device, adapter: query.adapter, beforeId, afterId, limit: limit + 1 });
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? String(items[items.length - 1]!.id) : null };
}
