export function ago(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function eventOutcome(e: { status: number; fault: { code: string; message: string } | null }): string {
  if (e.fault) return `fault ${e.fault.code} ${e.fault.message}`.trim();
  return e.status >= 400 ? `refused (${e.status})` : `ok (${e.status})`;
}

/** An ISO time as the browser's local date and time, with its distance from now. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  const ms = Date.parse(iso) - Date.now();
  const m = Math.round(Math.abs(ms) / 60_000);
  const span = m < 60 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`;
  return `${new Date(iso).toLocaleString()} (${ms >= 0 ? `in ${span}` : `${span} ago`})`;
}
