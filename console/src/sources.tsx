import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, send } from './api.ts';
import { ago, bytes } from './format.ts';
import { ScrollTable } from './table.tsx';

interface Run {
  id: number;
  trigger: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  added: number;
  unchanged: number;
  skipped: number;
  failed: number;
  unmapped: number;
  /** A count in lists; one run's own answer lists the pruned artifacts instead. */
  pruned: number | unknown[];
  bytes: number;
  error: string | null;
}

interface Source {
  name: string;
  type: string;
  schedule?: string;
  lastRun: Run | null;
}

function outcome(r: Run | null): string {
  if (!r) return 'never run';
  if (r.status === 'running') return `running since ${ago(r.startedAt)}`;
  const counts = `${r.added} added, ${r.unchanged} unchanged, ${r.failed} failed, ${r.skipped} skipped, ${Array.isArray(r.pruned) ? r.pruned.length : r.pruned} pruned (${bytes(r.bytes)})`;
  return `${r.status} ${ago(r.finishedAt ?? r.startedAt)}: ${counts}${r.error ? ` — ${r.error}` : ''}`;
}

/** Upstream sources: their last runs, each one's history, and a sync started now (`/api/v1/sources`). */
export function SourcesPage(): JSX.Element {
  const [list, setList] = useState<Source[]>();
  const [runs, setRuns] = useState<Record<string, Run[]>>({});
  const [message, setMessage] = useState('');
  const load = useMemo(() => (): Promise<void> => get<Source[]>('/sources').then(setList, (e: Error) => setMessage(e.message)), []);
  useEffect(() => void load(), [load]);
  const history = async (name: string): Promise<void> => {
    setRuns({ ...runs, [name]: await get<Run[]>(`/sources/${encodeURIComponent(name)}/runs?limit=10`) });
  };
  const sync = async (name: string): Promise<void> => {
    try {
      const started = await send<{ id: number }>('POST', `/sources/${encodeURIComponent(name)}/sync`);
      setMessage(`Sync of ${name} started (run ${started!.id}).`);
      // Follow the run until it ends (a minute at most here; the table shows it as it goes).
      for (let i = 0; i < 60; i++) {
        const run = await get<Run>(`/sources/${encodeURIComponent(name)}/runs/${started!.id}`);
        if (run.status !== 'running') {
          setMessage(`Sync of ${name}: ${outcome(run)}`);
          break;
        }
        await load();
        await new Promise((r) => setTimeout(r, 1000));
      }
      await load();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  return (
    <>
      <h1>Sources</h1>
      <p role="status" id="source-message">
        {message}
      </p>
      {list && list.length === 0 && <p class="muted">No sources are configured (aps.yaml `sources:`).</p>}
      {list && list.length > 0 && (
        <ScrollTable id="sources" columns={['Source', 'Type', 'Schedule', 'Last run', 'Actions']}>
          {list.map((s) => (
            <>
              <tr key={s.name}>
                <th scope="row">{s.name}</th>
                <td>{s.type}</td>
                <td>{s.schedule ?? 'none'}</td>
                <td class={s.lastRun?.status === 'failed' ? 'bad' : undefined}>{outcome(s.lastRun)}</td>
                <td>
                  <button type="button" onClick={() => void sync(s.name)} aria-label={`Sync ${s.name} now`}>
                    Sync now
                  </button>{' '}
                  <button type="button" onClick={() => void history(s.name)} aria-label={`Runs of ${s.name}`}>
                    Runs
                  </button>
                </td>
              </tr>
              {runs[s.name]?.map((r) => (
                <tr key={`${s.name}-${r.id}`} class="sub">
                  <td>run {r.id}</td>
                  <td>{r.trigger}</td>
                  <td colSpan={3}>{outcome(r)}</td>
                </tr>
              ))}
            </>
          ))}
        </ScrollTable>
      )}
    </>
  );
}
