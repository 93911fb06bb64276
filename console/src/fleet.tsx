import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, query, send, type DeviceView, type Fleet, type Page, type Profile } from './api.ts';
import { ago, eventOutcome } from './format.ts';
import { FleetChart, versionLabel } from './fleet-chart.tsx';
import { useLiveRefresh } from './live.ts';
import { ScrollTable } from './table.tsx';
import { FilterSelect } from './filter-select.tsx';
import { ErrorLine } from './error-line.tsx';

interface Filters {
  adapter: string;
  profile: string;
  group: string;
  version: string;
  status: string;
  q: string;
}

const EMPTY: Filters = { adapter: '', profile: '', group: '', version: '', status: '', q: '' };
const STATUSES = ['active', 'pending', 'refused', 'faulted', 'stale'];

export function DeviceRows({ devices }: { devices: DeviceView[] }): JSX.Element {
  return (
    <ScrollTable columns={['Device', 'Profile', 'Model', 'MAC', 'Group', 'Firmware', 'Last seen', 'IP', 'Last request', 'Status']}>
      {devices.map((d) => (
        <tr key={d.id}>
          <th scope="row">
            <a href={`/ui/devices/${encodeURIComponent(d.id)}`}>{d.id}</a>
          </th>
          <td>
            {d.profile} <small>({d.adapter})</small>
          </td>
          <td>{d.model ?? ''}</td>
          <td class="mono">{d.mac ?? ''}</td>
          <td>{d.group ?? ''}</td>
          <td>
            {d.firmware ? (
              <>
                {d.firmware.version} <span class={`tag ${d.firmware.basis}`}>{d.firmware.basis}</span>
              </>
            ) : (
              <span class="muted">unknown</span>
            )}
          </td>
          <td class={d.stale ? 'stale' : undefined}>
            {ago(d.state?.lastSeen)}
            {d.stale && <span class="tag warn">stale</span>}
          </td>
          <td class="mono">{d.state?.lastIp ?? ''}</td>
          <td class={d.lastEvent && (d.lastEvent.status >= 400 || d.lastEvent.fault) ? 'bad' : undefined}>
            {d.lastEvent ? `${d.lastEvent.file}: ${eventOutcome(d.lastEvent)}` : ''}
          </td>
          <td>{d.status}</td>
        </tr>
      ))}
    </ScrollTable>
  );
}

export function FleetPage(): JSX.Element {
  const [fleet, setFleet] = useState<Fleet>();
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [page, setPage] = useState<Page<DeviceView>>();
  const [cursors, setCursors] = useState<string[]>([]);
  const [troubled, setTroubled] = useState<DeviceView[]>([]);
  const [error, setError] = useState('');
  const after = cursors.at(-1);

  const loadFleet = useMemo(
    () => (): void => {
      get<Fleet>('/fleet?limit=1').then(setFleet, (e: Error) => setError(e.message));
      Promise.all([
        get<Page<DeviceView>>('/devices?status=refused&limit=50'),
        get<Page<DeviceView>>('/devices?status=faulted&limit=50'),
      ]).then(
        ([r, f]) => setTroubled([...r.items, ...f.items]),
        () => undefined,
      );
    },
    [],
  );
  const loadDevices = useMemo(
    () => (): void => {
      get<Page<DeviceView>>(`/devices${query({ ...filters, after, limit: 100 })}`).then(
        (p) => (setPage(p), setError('')),
        (e: Error) => setError(e.message),
      );
    },
    [filters, after],
  );
  useEffect(() => {
    get<Profile[]>('/profiles').then(setProfiles, () => undefined);
    loadFleet();
  }, [loadFleet]);
  useEffect(loadDevices, [loadDevices]);
  const refresh = useMemo(() => () => (loadFleet(), loadDevices()), [loadFleet, loadDevices]);
  useLiveRefresh(refresh);

  const set = (k: keyof Filters) => (e: Event) => {
    setCursors([]);
    setFilters({ ...filters, [k]: (e.currentTarget as HTMLInputElement).value });
  };
  const approve = async (id: string): Promise<void> => {
    try {
      await send('PATCH', `/devices/${encodeURIComponent(id)}`, { status: 'active' });
      refresh();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const adapters = [...new Set(profiles.map((p) => p.adapter))].sort();
  const reported = fleet?.versions.filter((v) => v.basis === 'reported').reduce((n, v) => n + v.devices, 0) ?? 0;
  const fetched = fleet?.versions.filter((v) => v.basis === 'fetched').reduce((n, v) => n + v.devices, 0) ?? 0;
  const total = fleet?.versions.reduce((n, v) => n + v.devices, 0) ?? 0;

  return (
    <>
      <h1>Fleet</h1>
      <ErrorLine error={error} />
      <section aria-labelledby="versions-h">
        <h2 id="versions-h">Firmware versions</h2>
        <p id="fleet-summary">
          {total} devices: {reported} reported their version, {fetched} only fetched it, {total - reported - fetched} unknown.
        </p>
        <div class="side">
          {fleet && <FleetChart rows={fleet.versions} />}
          <ScrollTable
            id="versions"
            caption="Devices per profile and firmware version"
            columns={['Profile', 'Version', 'Known from', 'Devices', 'Last seen']}
          >
            {fleet?.versions.map((v) => (
              <tr key={`${v.profile}/${v.version}/${v.basis}`}>
                <th scope="row">{v.profile}</th>
                <td>{versionLabel(v)}</td>
                <td>{v.basis ?? 'not known'}</td>
                <td class="num">{v.devices}</td>
                <td>{ago(v.lastSeen)}</td>
              </tr>
            ))}
          </ScrollTable>
        </div>
      </section>

      {fleet && fleet.pending.length > 0 && (
        <section aria-labelledby="pending-h">
          <h2 id="pending-h">Waiting for approval ({fleet.pending.length})</h2>
          <ScrollTable columns={['Device', 'Profile', 'Model', 'Last seen', 'Action']}>
            {fleet.pending.map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  <a href={`/ui/devices/${encodeURIComponent(p.id)}`}>{p.id}</a>
                </th>
                <td>{p.profile}</td>
                <td>{p.model ?? ''}</td>
                <td>{ago(p.lastSeen)}</td>
                <td>
                  <button type="button" onClick={() => void approve(p.id)} aria-label={`Approve ${p.id}`}>
                    Approve
                  </button>
                </td>
              </tr>
            ))}
          </ScrollTable>
        </section>
      )}

      {troubled.length > 0 && (
        <section aria-labelledby="troubled-h">
          <h2 id="troubled-h">Refused or faulted ({troubled.length})</h2>
          <DeviceRows devices={troubled} />
        </section>
      )}

      <section aria-labelledby="devices-h">
        <h2 id="devices-h">Devices</h2>
        <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
          <label>
            Search
            <input type="search" name="q" placeholder="id, MAC or IP" value={filters.q} onInput={set('q')} />
          </label>
          <FilterSelect label="Adapter" name="adapter" value={filters.adapter} options={adapters} onChange={set('adapter')} />
          <FilterSelect
            label="Profile"
            name="profile"
            value={filters.profile}
            options={profiles.map((p) => p.name)}
            onChange={set('profile')}
          />
          <label>
            Group
            <input name="group" value={filters.group} onChange={set('group')} />
          </label>
          <label>
            Version
            <input name="version" value={filters.version} onChange={set('version')} />
          </label>
          <FilterSelect label="Status" name="status" value={filters.status} options={STATUSES} onChange={set('status')} />
        </form>
        {page && (
          <>
            <p role="status" id="device-count">
              {page.items.length} device{page.items.length === 1 ? '' : 's'} on this page
            </p>
            <DeviceRows devices={page.items} />
            <div class="pager">
              <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
                Previous page
              </button>
              <button type="button" disabled={page.next === null} onClick={() => setCursors([...cursors, page.next!])}>
                Next page
              </button>
            </div>
          </>
        )}
      </section>
    </>
  );
}
