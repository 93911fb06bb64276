import type { JSX } from 'preact';

/** A page's load failure, announced to screen readers; nothing while there is none. */
export function ErrorLine({ error }: { error: string }): JSX.Element | null {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}
