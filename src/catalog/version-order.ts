import type { ArtifactRecord } from '../store/index.ts';

/** Compares version strings segment by segment, numbers numerically ("1.10" > "1.9", "2.0.1" > "2.0"). */
export function compareVersions(a: string, b: string): number {
  const sa = a.split(/[^0-9A-Za-z]+/).filter(Boolean);
  const sb = b.split(/[^0-9A-Za-z]+/).filter(Boolean);
  for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
    const x = sa[i];
    const y = sb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
    } else if (x !== y) {
      if (nx !== ny) return nx ? 1 : -1; // a release number outranks a word ("1.0.1" > "1.0.rc")
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/**
 * How a profile ranks the artifacts of one slot ("newest" wins target selection), set by its `order` key:
 * - `version` (default): higher version, then higher serial, then the later addition;
 * - `serial`: higher serial (none counts lowest), then higher version, then the later addition;
 * - `added`: the later addition, whatever its version or serial.
 */
export type ArtifactOrder = 'version' | 'serial' | 'added';
export const ARTIFACT_ORDERS: readonly ArtifactOrder[] = ['version', 'serial', 'added'];

/** Positive when `a` ranks above `b` in the given order; ids break every tie (catalog ids only grow). */
export function compareArtifacts(a: ArtifactRecord, b: ArtifactRecord, order: ArtifactOrder = 'version'): number {
  const bySerial = (): number => (a.serial === b.serial ? 0 : (a.serial ?? -1) - (b.serial ?? -1));
  const byVersion = (): number => compareVersions(a.version, b.version);
  const first = order === 'version' ? byVersion() || bySerial() : order === 'serial' ? bySerial() || byVersion() : 0;
  return first !== 0 ? first : a.id - b.id;
}
