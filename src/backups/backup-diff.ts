import { createTwoFilesPatch } from 'diff';

export interface DiffSide {
  label: string;
  /** Shown after the label in the header (the backup's time). */
  header?: string;
  bytes: Buffer;
}

/**
 * A unified diff of two backups, with the lines that change on every upload (a device's own counters,
 * TLS session tickets, call lists: its adapter's `backupVolatile`) left out of both sides first, as the
 * innovaphone update server's own comparison does. '' when nothing else differs.
 */
export function unifiedDiff(a: DiffSide, b: DiffSide, volatile: readonly RegExp[] = []): string {
  const left = stable(a.bytes, volatile);
  const right = stable(b.bytes, volatile);
  if (left === right) return '';
  return createTwoFilesPatch(a.label, b.label, left, right, a.header, b.header, { context: 3 });
}

function stable(bytes: Buffer, volatile: readonly RegExp[]): string {
  const lines = bytes.toString('utf8').replace(/\r\n/g, '\n').split('\n');
  const kept = lines.filter((line) => !volatile.some((re) => matches(re, line)));
  return kept.join('\n');
}

function matches(re: RegExp, line: string): boolean {
  re.lastIndex = 0; // a /g or /y pattern remembers where it stopped
  return re.test(line);
}
