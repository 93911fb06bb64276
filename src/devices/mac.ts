/** A MAC in any usual spelling (any case; `:`, `-`, `.` or no separators) as 12 lower-case hex digits, or null. */
export function normalizeMac(text: string): string | null {
  const hex = text.replace(/[:.\-\s]/g, '').toLowerCase();
  return /^[0-9a-f]{12}$/.test(hex) ? hex : null;
}
