import { createTwoFilesPatch } from 'diff';
import { ApsError } from '../errors.ts';

// Myers' diff is O(N·D): two large, very different backups could hold the event loop (the server's API)
// for long. Past this budget the diff gives up with a clear error instead.
const DIFF_TIMEOUT_MS = 3000;

export interface DiffSide {
  label: string;
  /** Shown after the label in the header (the backup's time). */
  header?: string;
  bytes: Buffer;
}

/**
 * A unified diff of two backups, with the lines that change on every upload (a device's own counters,
 * TLS session tickets, call lists: its adapter's `backupVolatile`) left out of both sides first, as the
 * a vendor's own update server compares them. '' when nothing else differs.
 */
export function unifiedDiff(a: DiffSide, b: DiffSide, volatile: readonly RegExp[] = []): string {
  const left = stable(a.bytes, volatile);
  const right = stable(b.bytes, volatile);
  if (left === right) return '';
  const patch = createTwoFilesPatch(a.label, b.label, left, right, a.header, b.header, { context: 3, timeout: DIFF_TIMEOUT_MS });
  if (patch === undefined) {
    throw new ApsError(
      'too_large',
      `${a.label} and ${b.label} differ too much to diff within ${DIFF_TIMEOUT_MS / 1000} s; compare their bytes instead`,
    );
  }
  return patch;
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
