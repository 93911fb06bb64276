import type { GenericEventHandler, JSX } from 'preact';

/** A filter's drop-down: "all" (the empty value, no filter) then one choice per option. */
export function FilterSelect({
  label,
  name,
  value,
  options,
  onChange,
}: {
  label: string;
  name?: string;
  value: string;
  options: string[];
  onChange: GenericEventHandler<HTMLSelectElement>;
}): JSX.Element {
  return (
    <label>
      {label}
      <select name={name} value={value} onChange={onChange}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}
