import type { ComponentChildren, JSX } from 'preact';

/** The console's one table shape: scrolls sideways on narrow screens, a header row of column names, the caller's rows. */
export function ScrollTable({
  id,
  class: className,
  caption,
  columns,
  children,
}: {
  id?: string;
  class?: string;
  caption?: string;
  /** Column names; `false` leaves a column out (a table shown with and without it). */
  columns: (string | false)[];
  children: ComponentChildren;
}): JSX.Element {
  return (
    <div class="scroll">
      <table id={id} class={className}>
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map(
              (c) =>
                c !== false && (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
