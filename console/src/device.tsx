import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, query, send, type DeviceEvent, type DeviceView, type Page, type PreviewFile } from './api.ts';
import { Backups } from './backups.tsx';
import { Copyable } from './copy.tsx';
import { EventTable } from './events.tsx';
import { ago, when } from './format.ts';
import { onLive } from './live.ts';
import { ErrorLine } from './error-line.tsx';

type Row = { key: string; value: string };

/** Key/value rows edited in place; saved as one PATCH (removed keys as null, untouched masked secrets left out). */
function KeyValues({
  title,
  initial,
  placeholder,
  save,
}: {
  title: string;
  initial: Record<string, string | number>;
  placeholder: string;
  save: (patch: Record<string, string | null>) => Promise<void>;
}) {
  const start = (): Row[] => Object.entries(initial).map(([key, value]) => ({ key, value: String(value) }));
  const [rows, setRows] = useState<Row[]>(start);
  const [message, setMessage] = useState('');
  useEffect(() => setRows(start()), [initial]);
  const edit = (i: number, field: keyof Row, v: string): void => setRows(rows.map((r, j) => (j === i ? { ...r, [field]: v } : r)));
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const patch: Record<string, string | null> = {};
    for (const k of Object.keys(initial)) if (!rows.some((r) => r.key === k)) patch[k] = null;
    for (const r of rows) {
      if (!r.key) continue;
      if (String(initial[r.key] ?? '') === r.value) continue;
      patch[r.key] = r.value === '' ? null : r.value;
    }
    try {
      await save(patch);
      setMessage('Saved.');
    } catch (err) {
      setMessage((err as Error).message);
    }
  };
  const id = title.toLowerCase();
  return (
    <form onSubmit={(e) => void submit(e)} aria-label={title}>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
            <th scope="col">
              <span class="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td>
                <input
                  aria-label={`${title} ${i + 1} name`}
                  name={`${id}-key-${i}`}
                  value={r.key}
                  onInput={(e) => edit(i, 'key', e.currentTarget.value)}
                />
              </td>
              <td>
                <input
                  aria-label={`${title} ${r.key || i + 1} value`}
                  name={`${id}-value-${r.key}`}
                  placeholder={placeholder}
                  value={r.value}
                  onInput={(e) => edit(i, 'value', e.currentTarget.value)}
                />
              </td>
              <td>
                <button type="button" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={`Remove ${r.key}`}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => setRows([...rows, { key: '', value: '' }])}>
        Add
      </button>{' '}
      <button type="submit">Save {title.toLowerCase()}</button> <span role="status">{message}</span>
    </form>
  );
}

function Preview({ id, version }: { id: string; version: number }) {
  const [files, setFiles] = useState<PreviewFile[]>();
  const [revealed, setRevealed] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    get<PreviewFile[]>(`/devices/${encodeURIComponent(id)}/preview${revealed ? '' : '?mask=1'}`).then(
      (f) => (setFiles(f), setError('')),
      (e: Error) => setError(e.message),
    );
  }, [id, revealed, version]);
  return (
    <>
      <button type="button" aria-pressed={revealed} onClick={() => setRevealed(!revealed)}>
        {revealed ? 'Mask secrets' : 'Reveal secrets'}
      </button>
      {error && <p class="error">{error}</p>}
      {files?.map((f) => (
        <details key={f.name} open={f.text !== undefined && f.text.length < 4000}>
          <summary>
            {f.name}{' '}
            <small>
              ({f.contentType}, {f.size} bytes{f.artifactId !== undefined ? `, artifact ${f.artifactId}` : ''})
            </small>
          </summary>
          {f.text !== undefined ? <pre class="preview">{f.text}</pre> : <p class="muted">md5 {f.md5}</p>}
        </details>
      ))}
    </>
  );
}

export function DevicePage({ id }: { id: string }): JSX.Element {
  const [d, setD] = useState<DeviceView>();
  const [events, setEvents] = useState<DeviceEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const [version, setVersion] = useState(0);
  const path = `/devices/${encodeURIComponent(id)}`;
  const load = useMemo(
    () => (): void => {
      get<DeviceView>(path).then(
        (v) => (setD(v), setError('')),
        (e: Error) => setError(e.message),
      );
    },
    [path],
  );
  useEffect(() => {
    load();
    get<Page<DeviceEvent>>(`/events${query({ device: id, limit: 50 })}`).then(
      (p) => (setEvents(p.items), setNext(p.next)),
      () => undefined,
    );
    return onLive((e) => {
      if (e.deviceId !== id) return;
      setEvents((list) => [e, ...list].slice(0, 200));
      load();
    });
  }, [id, load]);
  const patch = async (body: object): Promise<void> => {
    setD(await send<DeviceView>('PATCH', path, body));
    setVersion((v) => v + 1);
  };
  const notify = async (): Promise<void> => {
    setMessage('Notifying…');
    try {
      const r = await send<{ ok: boolean; summary: string }>('POST', `${path}/notify`);
      setMessage(`${r!.ok ? 'Notified' : 'Not notified'}: ${r!.summary}`);
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  const older = async (): Promise<void> => {
    const p = await get<Page<DeviceEvent>>(`/events${query({ device: id, limit: 50, after: next ?? undefined })}`);
    setEvents([...events, ...p.items]);
    setNext(p.next);
  };
  if (error) return <ErrorLine error={error} />;
  if (!d) return <p>Loading…</p>;
  const reported = Object.entries(d.state?.reported ?? {});
  return (
    <>
      <h1>Device {d.id}</h1>
      <section aria-labelledby="identity-h">
        <h2 id="identity-h">Identity</h2>
        <dl class="facts">
          <dt>Profile</dt>
          <dd>
            {d.profile} ({d.adapter})
          </dd>
          <dt>Model</dt>
          <dd>{d.model ?? '-'}</dd>
          <dt>MAC</dt>
          <dd class="mono">{d.mac ?? '-'}</dd>
          <dt>Group</dt>
          <dd>{d.group ?? '-'}</dd>
          <dt>Status</dt>
          <dd>
            {d.status}{' '}
            {d.status === 'pending' && (
              <button type="button" onClick={() => void patch({ status: 'active' })}>
                Approve
              </button>
            )}
          </dd>
          <dt>Password</dt>
          <dd>{d.hasPassword ? 'set' : 'none'}</dd>
          <dt>Last seen</dt>
          <dd class={d.stale ? 'stale' : undefined}>
            {ago(d.state?.lastSeen)} {d.state?.lastIp ? `from ${d.state.lastIp}` : ''}
          </dd>
          <dt>Firmware</dt>
          <dd>{d.firmware ? `${d.firmware.version} (${d.firmware.basis})` : 'unknown'}</dd>
        </dl>
        {d.canNotify && (
          <p>
            <button type="button" onClick={() => void notify()}>
              Notify now
            </button>{' '}
            <span role="status">{message}</span>
          </p>
        )}
      </section>
      <section aria-labelledby="reported-h">
        <h2 id="reported-h">Reported state</h2>
        {reported.length === 0 ? (
          <p class="muted">Nothing reported yet.</p>
        ) : (
          <dl class="facts">
            {reported.map(([k, v]) => (
              <>
                <dt key={`k${k}`}>{k}</dt>
                <dd key={`v${k}`}>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
              </>
            ))}
          </dl>
        )}
        <h3>Targets</h3>
        <ul>
          {Object.entries(d.targets).map(([slot, t]) => (
            <li key={slot}>
              {slot}: artifact {t.id} {t.filename} {t.version}
              {d.pins[slot] ? ' (pinned)' : ''}
            </li>
          ))}
          {d.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      </section>
      {d.window && (
        <section aria-labelledby="window-h">
          <h2 id="window-h">Maintenance window</h2>
          <dl class="facts" id="window">
            <dt>Window</dt>
            <dd>
              {d.window.description} (from its {d.window.source})
            </dd>
            <dt>Now</dt>
            <dd>{d.window.open ? `open, closes ${when(d.window.closesAt)}` : 'closed'}</dd>
            <dt>Next start</dt>
            <dd>{when(d.window.nextStart)}</dd>
            <dt>Pending change</dt>
            <dd>{d.window.pending.length ? `${d.window.pending.join(', ')}: a new target, given when the window opens` : 'none'}</dd>
          </dl>
        </section>
      )}
      <section aria-labelledby="setup-h">
        <h2 id="setup-h">Setup</h2>
        <Copyable label="provisioning URL" value={d.setup.url} />
        {d.setup.credentials && (
          <>
            <p>User name</p>
            <Copyable label="user name" value={d.setup.credentials.username} />
          </>
        )}
        <ul class="hints">
          {d.setup.hints.map((h) => (
            <li key={h}>
              <Copyable label="hint" value={h} />
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="preview-h">
        <h2 id="preview-h">What it would receive now</h2>
        <Preview id={d.id} version={version} />
      </section>
      <section aria-labelledby="vars-h" class="side">
        <div>
          <h2 id="vars-h">Variables</h2>
          <KeyValues title="Variables" initial={d.vars} placeholder="value" save={(vars) => patch({ vars })} />
        </div>
        <div>
          <h2>Pins</h2>
          <KeyValues
            title="Pins"
            initial={d.pins}
            placeholder="artifact id"
            save={async (p) => {
              const bad = Object.entries(p).find(([, v]) => v !== null && !/^\d+$/.test(v));
              if (bad) throw new Error(`pin ${bad[0]} needs an artifact id, not "${bad[1]}"`);
              await patch({ pins: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v === null ? null : Number(v)])) });
            }}
          />
        </div>
      </section>
      <section aria-labelledby="backups-h">
        <h2 id="backups-h">Backups</h2>
        <Backups id={d.id} onRestored={() => (load(), setVersion((v) => v + 1))} />
      </section>
      <section aria-labelledby="events-h">
        <h2 id="events-h">Events</h2>
        <EventTable events={events} device={false} />
        {next !== null && (
          <button type="button" onClick={() => void older()}>
            Older events
          </button>
        )}
      </section>
    </>
  );
}
