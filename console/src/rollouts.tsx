import type { JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get, send, type Artifact, type DeviceEvent, type Rollout, type RolloutCounts, type RolloutDetail } from './api.ts';
import { ago } from './format.ts';
import { useLiveRefresh } from './live.ts';
import { navigate } from './router.ts';
import { ScrollTable } from './table.tsx';
import { ErrorLine } from './error-line.tsx';

const ACTIVE = ['running', 'paused', 'halted'];

// The rollout engine records each transition and each device's verdict as an event of file `rollout:<id>`.
const ofRollouts = (e: DeviceEvent): boolean => e.adapter === 'rollout';

function countsText(c: RolloutCounts): string {
  return `${c.succeeded} succeeded, ${c.failed} failed, ${c.pending} pending`;
}

function Stages({ r }: { r: Rollout }): JSX.Element {
  return (
    <ol class="stages">
      {r.byStage.map((c, i) => (
        <li key={i}>
          {r.stages[i]} %: {c.devices} devices, {countsText(c)}
        </li>
      ))}
    </ol>
  );
}

function artifactName(a: Artifact | undefined, id: number): string {
  return a ? `artifact ${id} ${a.filename}${a.version ? ` ${a.version}` : ''}` : `artifact ${id}`;
}

function useArtifacts(): Map<number, Artifact> {
  const [map, setMap] = useState(new Map<number, Artifact>());
  useEffect(() => {
    get<Artifact[]>('/artifacts').then(
      (list) => setMap(new Map(list.map((a) => [a.id, a]))),
      () => undefined,
    );
  }, []);
  return map;
}

/** Every rollout, newest first: its artifact, state, current stage, each stage's counts and why it stopped. */
export function RolloutsPage(): JSX.Element {
  const [list, setList] = useState<Rollout[]>();
  const [error, setError] = useState('');
  const artifacts = useArtifacts();
  const load = useCallback((): void => {
    get<Rollout[]>('/rollouts').then(
      (l) => (setList(l), setError('')),
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(load, [load]);
  useLiveRefresh(load, ofRollouts, 1000);
  const sorted = [...(list ?? [])].sort((x, y) => y.id - x.id);
  return (
    <>
      <h1>Rollouts</h1>
      <p class="muted">Start a rollout from a candidate on the Artifacts page.</p>
      <ErrorLine error={error} />
      {list && list.length === 0 && <p>No rollouts yet.</p>}
      {sorted.length > 0 && (
        <ScrollTable id="rollouts" columns={['Id', 'Artifact', 'Profile', 'State', 'Stage', 'Devices per stage', 'Reason']}>
          {sorted.map((r) => (
            <tr key={r.id}>
              <th scope="row">
                <a href={`/ui/rollouts/${r.id}`}>{r.id}</a>
              </th>
              <td>{artifactName(artifacts.get(r.artifactId), r.artifactId)}</td>
              <td>
                {r.profile} {r.slot}
                {r.groups.length > 0 && <small> (groups {r.groups.join(', ')})</small>}
              </td>
              <td class={r.state === 'halted' ? 'bad' : undefined}>{r.state}</td>
              <td>
                {r.stage + 1} of {r.stages.length} ({r.percent} %)
              </td>
              <td>
                <Stages r={r} />
              </td>
              <td>{r.reason ?? ''}</td>
            </tr>
          ))}
        </ScrollTable>
      )}
    </>
  );
}

/** One rollout: its stages, its devices with each verdict, and the admin's verbs. */
export function RolloutPage({ id }: { id: number }): JSX.Element {
  const [r, setR] = useState<RolloutDetail>();
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const artifacts = useArtifacts();
  // GET /rollouts/:id judges what the devices reported up to now: a reload after a device's event shows it.
  const load = useCallback((): void => {
    get<RolloutDetail>(`/rollouts/${id}`).then(
      (v) => (setR(v), setError('')),
      (e: Error) => setError(e.message),
    );
  }, [id]);
  useEffect(load, [load]);
  const mine = useCallback(
    (e: DeviceEvent): boolean =>
      e.file === `rollout:${id}` || (e.deviceId !== null && (r?.devices.some((d) => d.deviceId === e.deviceId) ?? false)),
    [id, r],
  );
  useLiveRefresh(load, mine, 500);
  const act = async (verb: string): Promise<void> => {
    if (verb === 'abort' && !confirm(`Abort rollout ${id}? Its devices return to their previous target.`)) return;
    try {
      await send('POST', `/rollouts/${id}/${verb}`);
      setMessage(`${verb[0]!.toUpperCase()}${verb.slice(1)}: done.`);
      load();
    } catch (e) {
      setMessage(`Not done: ${(e as Error).message}`);
    }
  };
  if (error) return <ErrorLine error={error} />;
  if (!r) return <p>Loading…</p>;
  const active = ACTIVE.includes(r.state);
  const button = (verb: string, label: string, enabled: boolean): JSX.Element => (
    <button type="button" disabled={!enabled} onClick={() => void act(verb)}>
      {label}
    </button>
  );
  const a = artifacts.get(r.artifactId);
  return (
    <>
      <h1>Rollout {r.id}</h1>
      <dl class="facts" id="rollout-facts">
        <dt>Artifact</dt>
        <dd>{artifactName(a, r.artifactId)}</dd>
        <dt>Profile</dt>
        <dd>
          {r.profile} {r.slot}
          {r.groups.length > 0 && ` (groups ${r.groups.join(', ')})`}
        </dd>
        <dt>State</dt>
        <dd id="rollout-state" class={r.state === 'halted' ? 'bad' : undefined}>
          {r.state}
        </dd>
        <dt>Stage</dt>
        <dd id="rollout-stage">
          {r.stage + 1} of {r.stages.length} ({r.percent} %): {r.counts.devices} devices, {countsText(r.counts)}
        </dd>
        <dt>Options</dt>
        <dd>
          stages {r.stages.join(', ')} %, max failures {r.maxFailures}, timeout {r.timeout}
          {r.autoPromote ? ', promotes itself' : ''}
        </dd>
        {r.reason && (
          <>
            <dt>Reason</dt>
            <dd id="rollout-reason">{r.reason}</dd>
          </>
        )}
      </dl>
      <p class="actions">
        {button('promote', r.stage === r.stages.length - 1 ? 'Promote (complete)' : 'Promote', active)}{' '}
        {button('pause', 'Pause', r.state === 'running')} {button('resume', 'Resume', r.state === 'paused')}{' '}
        {button('abort', 'Abort', active)}
      </p>
      <p role="status" id="rollout-message">
        {message}
      </p>
      <h2>Stages</h2>
      <Stages r={r} />
      <h2 id="rollout-devices-h">Devices</h2>
      <ScrollTable id="rollout-devices" columns={['Device', 'Stage', 'Status', 'Detail', 'Previous target', 'Since']}>
        {r.devices.map((d) => (
          <tr key={d.deviceId}>
            <th scope="row">
              <a href={`/ui/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceId}</a>
            </th>
            <td class="num">{d.stage + 1}</td>
            <td class={d.status === 'failed' ? 'bad' : undefined}>{d.status}</td>
            <td>{d.detail ?? ''}</td>
            <td>{d.previousId === null ? 'none' : `artifact ${d.previousId}`}</td>
            <td>{ago(d.updatedAt)}</td>
          </tr>
        ))}
      </ScrollTable>
    </>
  );
}

/** The options of `POST /rollouts` for a candidate artifact; on success, the new rollout's page. */
export function StartRollout({ artifact, onCancel }: { artifact: Artifact; onCancel: () => void }): JSX.Element {
  const [groups, setGroups] = useState<string[]>([]);
  const [message, setMessage] = useState('');
  const first = useRef<HTMLInputElement>(null);
  // The form opens above the list: the keyboard (and the eye) goes to it.
  useEffect(() => first.current?.focus(), [artifact.id]);
  useEffect(() => {
    get<Array<{ name: string }>>('/groups').then(
      (g) => setGroups(g.map((x) => x.name)),
      () => undefined,
    );
  }, []);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const text = (k: string): string | undefined => {
      const v = data.get(k);
      return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
    };
    const chosen = data.getAll('groups').filter((g): g is string => typeof g === 'string');
    try {
      const r = await send<Rollout>('POST', '/rollouts', {
        artifactId: artifact.id,
        stages: text('stages'),
        maxFailures: text('maxFailures'),
        timeout: text('timeout'),
        ...(chosen.length ? { groups: chosen } : {}),
        autoPromote: data.get('autoPromote') === 'on',
      });
      navigate(`/ui/rollouts/${r!.id}`);
    } catch (err) {
      setMessage(`Not started: ${(err as Error).message}`);
    }
  };
  return (
    <form class="upload" aria-labelledby="start-h" onSubmit={(e) => void submit(e)}>
      <h2 id="start-h">
        Start rollout of artifact {artifact.id} ({artifact.filename} {artifact.version})
      </h2>
      <label>
        Stages (%)
        <input name="stages" placeholder="1,10,50,100" ref={first} />
      </label>
      <label>
        Max failures
        <input name="maxFailures" placeholder="5%" />
      </label>
      <label>
        Timeout
        <input name="timeout" placeholder="6h" />
      </label>
      {groups.length > 0 && (
        <fieldset>
          <legend>Groups (none: the whole profile)</legend>
          {groups.map((g) => (
            <label key={g} class="check">
              <input type="checkbox" name="groups" value={g} /> {g}
            </label>
          ))}
        </fieldset>
      )}
      <label class="check">
        <input type="checkbox" name="autoPromote" /> Promote by itself
      </label>
      <button type="submit">Start rollout</button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <p role="alert" id="start-message">
        {message}
      </p>
    </form>
  );
}
