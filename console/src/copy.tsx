import type { JSX } from 'preact';
import { useState } from 'preact/hooks';

/** A value with a button that copies it (the Clipboard API; the text stays selectable where it is refused). */
export function Copyable({ label, value }: { label: string; value: string }): JSX.Element {
  const [done, setDone] = useState('');
  const copy = (): void => {
    navigator.clipboard.writeText(value).then(
      () => setDone('Copied'),
      () => setDone('Copy refused: select the text'),
    );
  };
  return (
    <div class="copy">
      <code>{value}</code>
      <button type="button" onClick={copy} aria-label={`Copy ${label}`}>
        Copy
      </button>
      <span role="status" class="muted">
        {done}
      </span>
    </div>
  );
}
