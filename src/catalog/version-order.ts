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

/** "Newest" for target selection: higher serial, then higher version, then the later upload. */
export function compareArtifacts(a: ArtifactRecord, b: ArtifactRecord): number {
  if (a.serial !== b.serial) return (a.serial ?? -1) - (b.serial ?? -1);
  const v = compareVersions(a.version, b.version);
  return v !== 0 ? v : a.id - b.id;
}
