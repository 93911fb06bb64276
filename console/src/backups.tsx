import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, request, send, type Backup } from './api.ts';
import { bytes } from './format.ts';
import { ScrollTable } from './table.tsx';

/** Backups the device uploaded: compare two side by side (diff2html, loaded only when asked) and restore one. */
export function Backups({ id, onRestored }: { id: string; onRestored: () => void }): JSX.Element {
  const [list, setList] = useState<Backup[]>([]);
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [diff, setDiff] = useState('');
  const [message, setMessage] = useState('');
  const base = `/devices/${encodeURIComponent(id)}/backups`;
  useEffect(() => {
    get<Backup[]>(base).then(
      (l) => {
        setList(l);
        if (l.length >= 2) {
          setA(String(l[1]!.seq)); // newest first: the one before the latest against the latest
          setB(String(l[0]!.seq));
        }
      },
      () => undefined,
    );
  }, [base]);
  const compare = async (): Promise<void> => {
    let text: string;
    try {
      text = await (await request(`${base}/diff?a=${a}&b=${b}`)).text();
    } catch (e) {
      // A read token may list backups but not read them (403): say so rather than fail silently.
      setDiff('');
      return setMessage((e as Error).message);
    }
    const { html } = await import('diff2html');
    await import('diff2html/bundles/css/diff2html.min.css');
    setDiff(text.trim() ? html(text, { outputFormat: 'side-by-side', drawFileList: false }) : '');
    setMessage(text.trim() ? '' : 'No difference (volatile lines left out).');
  };
  const restore = async (seq: number): Promise<void> => {
    if (!confirm(`Make backup ${seq} the configuration this device gets?`)) return;
    try {
      await send('POST', `${base}/${seq}/restore`);
      setMessage(`Backup ${seq} is now the device's configuration.`);
      onRestored();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  if (list.length === 0) return <p class="muted">No backups.</p>;
  return (
    <>
      <ScrollTable columns={['#', 'Received', 'Size', 'Action']}>
        {list.map((x) => (
          <tr key={x.seq}>
            <th scope="row">{x.seq}</th>
            <td>{new Date(x.at).toLocaleString()}</td>
            <td class="num">{bytes(x.size)}</td>
            <td>
              <button type="button" onClick={() => void restore(x.seq)}>
                Restore {x.seq}
              </button>
            </td>
          </tr>
        ))}
      </ScrollTable>
      {list.length >= 2 && (
        <form class="filters" onSubmit={(e) => (e.preventDefault(), void compare())}>
          {[
            ['Older', a, setA],
            ['Newer', b, setB],
          ].map(([label, value, setter]) => (
            <label key={label as string}>
              {label as string}
              <select value={value as string} onChange={(e) => (setter as (v: string) => void)(e.currentTarget.value)}>
                {list.map((x) => (
                  <option key={x.seq} value={x.seq}>
                    {x.seq}
                  </option>
                ))}
              </select>
            </label>
          ))}
          <button type="submit">Compare</button>
        </form>
      )}
      <p role="status">{message}</p>
      {/* diff2html escapes the file contents it renders. */}
      {diff && <div class="diff" dangerouslySetInnerHTML={{ __html: diff }} />}
    </>
  );
}
