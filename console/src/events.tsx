import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, query, type DeviceEvent, type Page } from './api.ts';
import { eventOutcome } from './format.ts';
import { onLive } from './live.ts';
import { ScrollTable } from './table.tsx';

export function EventTable({ events, device = true }: { events: DeviceEvent[]; device?: boolean }): JSX.Element {
  return (
    <ScrollTable class="events" columns={['When', device && 'Device', 'Adapter', 'File', 'Outcome', 'Bytes', 'IP', 'Detail']}>
      {events.map((e, i) => (
        <tr key={e.id ?? `live-${e.at}-${i}`} class={e.status >= 400 || e.fault ? 'bad' : undefined}>
          <td>
            <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time>
          </td>
          {device && <td>{e.deviceId ? <a href={`/ui/devices/${encodeURIComponent(e.deviceId)}`}>{e.deviceId}</a> : '-'}</td>}
          <td>{e.adapter}</td>
          <td>{e.file}</td>
          <td>{eventOutcome(e)}</td>
          <td class="num">{e.bytes}</td>
          <td class="mono">{e.ip ?? ''}</td>
          <td>{e.detail ?? ''}</td>
        </tr>
      ))}
    </ScrollTable>
  );
}

/** Every device request, newest first; new ones appear as the server records them. */
export function EventsPage(): JSX.Element {
  const [events, setEvents] = useState<DeviceEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [adapter, setAdapter] = useState('');
  useEffect(() => {
    get<Page<DeviceEvent>>(`/events${query({ adapter, limit: 100 })}`).then(
      (p) => (setEvents(p.items), setNext(p.next)),
      () => undefined,
    );
    return onLive((e) => {
      if (!adapter || e.adapter === adapter) setEvents((list) => [e, ...list].slice(0, 500));
    });
  }, [adapter]);
  const older = async (): Promise<void> => {
    const p = await get<Page<DeviceEvent>>(`/events${query({ adapter, limit: 100, after: next ?? undefined })}`);
    setEvents([...events, ...p.items]);
    setNext(p.next);
  };
  return (
    <>
      <h1>Events</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Adapter
          <input name="adapter" value={adapter} onChange={(e) => setAdapter(e.currentTarget.value)} />
        </label>
      </form>
      <EventTable events={events} />
      {next !== null && (
        <button type="button" onClick={() => void older()}>
          Older events
        </button>
      )}
    </>
  );
}
