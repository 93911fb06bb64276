import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, send, upload, type Artifact, type Profile } from './api.ts';
import { bytes } from './format.ts';
import { StartRollout } from './rollouts.tsx';
import { ScrollTable } from './table.tsx';
import { FilterSelect } from './filter-select.tsx';

type ArtifactView = Artifact & { targetedBy: string[] };
const KINDS = ['firmware', 'config', 'bootstrap', 'aux'];

function Upload({ profiles, onDone }: { profiles: Profile[]; onDone: () => void }) {
  const [progress, setProgress] = useState<{ sent: number; total: number }>();
  const [message, setMessage] = useState('');
  const abort = useRef<() => void>(undefined);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    // Fields first, the file last: the server has every field when the (possibly huge) file arrives.
    const file = data.get('file') as File;
    data.delete('file');
    for (const [k, v] of [...data.entries()]) if (v === '') data.delete(k);
    data.append('file', file, file.name);
    setMessage('');
    setProgress({ sent: 0, total: file.size });
    const u = upload('/artifacts', data, (sent, total) => setProgress({ sent, total }));
    abort.current = u.abort;
    try {
      const a = (await u.done) as Artifact & { existing?: boolean; warning?: string };
      setMessage(
        `${a.existing ? 'Already in the catalog' : 'Added'}: artifact ${a.id} ${a.filename} ${a.version}${a.warning ? ` (${a.warning})` : ''}`,
      );
      form.reset();
      onDone();
    } catch (err) {
      setMessage((err as Error).message);
    } finally {
      abort.current = undefined;
      setProgress(undefined);
    }
  };
  const pct = progress && progress.total > 0 ? Math.floor((progress.sent / progress.total) * 100) : 0;
  return (
    <form class="upload" onSubmit={(e) => void submit(e)} aria-labelledby="upload-h">
      <h2 id="upload-h">Upload</h2>
      <label>
        File
        <input type="file" name="file" required />
      </label>
      <label>
        Profile
        {/* No default: an upload to the wrong profile would be served to the wrong devices. */}
        <select name="profile" required>
          <option value="">choose…</option>
          {profiles.map((p) => (
            <option key={p.name}>{p.name}</option>
          ))}
        </select>
      </label>
      <label>
        Kind
        <select name="kind">
          {KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </label>
      <label>
        Version
        <input name="version" />
      </label>
      <label>
        Role (aux)
        <input name="role" />
      </label>
      <label>
        Models (comma-separated)
        <input name="models" />
      </label>
      <button type="submit" disabled={progress !== undefined}>
        Upload
      </button>
      {progress && (
        <>
          <label>
            Progress
            <progress id="upload-progress" max={100} value={pct}>
              {pct}%
            </progress>
          </label>
          <span role="status" id="upload-status">
            {pct}% ({bytes(progress.sent)} of {bytes(progress.total)})
          </span>
          <button type="button" onClick={() => abort.current?.()}>
            Cancel
          </button>
        </>
      )}
      <p role="status" id="upload-result">
        {message}
      </p>
    </form>
  );
}

/** The catalog per profile and kind, the devices each artifact is the target of, upload and delete. */
export function ArtifactsPage(): JSX.Element {
  const [list, setList] = useState<ArtifactView[]>([]);
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [profile, setProfile] = useState('');
  const [message, setMessage] = useState('');
  const [starting, setStarting] = useState<ArtifactView>();
  const load = useMemo(
    () => (): void =>
      void get<ArtifactView[]>(`/artifacts${profile ? `?profile=${encodeURIComponent(profile)}` : ''}`).then(setList, () => undefined),
    [profile],
  );
  useEffect(() => {
    get<Profile[]>('/profiles').then(setProfiles, () => undefined);
  }, []);
  useEffect(load, [load]);
  const remove = async (a: ArtifactView): Promise<void> => {
    if (!confirm(`Delete artifact ${a.id} (${a.filename})?`)) return;
    try {
      await send('DELETE', `/artifacts/${a.id}`);
      setMessage(`Deleted artifact ${a.id}.`);
      load();
    } catch (e) {
      setMessage(`Not deleted: ${(e as Error).message}`);
    }
  };
  const sorted = [...list].sort((x, y) => x.profile.localeCompare(y.profile) || x.kind.localeCompare(y.kind) || y.id - x.id);
  return (
    <>
      <h1>Artifacts</h1>
      <Upload profiles={profiles} onDone={load} />
      <h2>Catalog</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <FilterSelect
          label="Profile"
          value={profile}
          options={profiles.map((p) => p.name)}
          onChange={(e) => setProfile(e.currentTarget.value)}
        />
      </form>
      <p role="alert" id="artifact-message">
        {message}
      </p>
      {starting && <StartRollout key={starting.id} artifact={starting} onCancel={() => setStarting(undefined)} />}
      <ScrollTable id="artifacts" columns={['Id', 'Profile', 'Kind', 'Version', 'File', 'Size', 'Status', 'Targeted by', 'Action']}>
        {sorted.map((a) => (
          <tr key={a.id}>
            <th scope="row">{a.id}</th>
            <td>{a.profile}</td>
            <td>{a.role ? `${a.kind}:${a.role}` : a.kind}</td>
            <td>{a.version}</td>
            <td>
              {a.filename}
              {a.deviceId && <small> (device {a.deviceId})</small>}
            </td>
            <td class="num">{bytes(a.size)}</td>
            <td class={a.status === 'candidate' ? 'candidate' : undefined}>{a.status ?? '-'}</td>
            <td>
              {a.targetedBy.length === 0
                ? 'none'
                : a.targetedBy.slice(0, 5).map((id, i) => (
                    <>
                      {i > 0 && ', '}
                      <a key={id} href={`/ui/devices/${encodeURIComponent(id)}`}>
                        {id}
                      </a>
                    </>
                  ))}
              {a.targetedBy.length > 5 && ` and ${a.targetedBy.length - 5} more`}
            </td>
            <td>
              {/* A candidate waits for a rollout (release: manual); one of a device's own needs none. */}
              {a.status === 'candidate' && a.deviceId === null && (
                <>
                  <button type="button" onClick={() => setStarting(a)} aria-label={`Start rollout of artifact ${a.id}`}>
                    Start rollout
                  </button>{' '}
                </>
              )}
              <button type="button" onClick={() => void remove(a)} aria-label={`Delete artifact ${a.id}`}>
                Delete
              </button>
            </td>
          </tr>
        ))}
      </ScrollTable>
    </>
  );
}
