import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Published } from './manifest.ts';

// Published checksums: `<file>.sha256` / `<file>.md5` sidecars as sha256sum/md5sum (GNU or BSD style) or a
// bare digest print them, and the manifest's `sha256`/`md5`. A file is added only once every published
// checksum matches the bytes received.

export const SIDECARS = { sha256: '.sha256', md5: '.md5' } as const;
export type Algorithm = keyof typeof SIDECARS;
const HEX_LENGTH: Record<Algorithm, number> = { sha256: 64, md5: 32 };

/** A sidecar larger than this is not a checksum file: refused rather than read. */
export const SIDECAR_MAX_BYTES = 4096;

/** The file a sidecar name publishes a checksum for, or undefined when the name is no sidecar. */
export function sidecarOf(name: string): { file: string; algorithm: Algorithm } | undefined {
  for (const algorithm of Object.keys(SIDECARS) as Algorithm[]) {
    const ext = SIDECARS[algorithm];
    if (name.length > ext.length && name.toLowerCase().endsWith(ext)) return { file: name.slice(0, -ext.length), algorithm };
  }
  return undefined;
}

/**
 * The digest a sidecar publishes for `file`: `HEX`, `HEX  file`, `HEX *file` (GNU) or `SHA256 (file) = HEX`
 * (BSD). A line naming another file is ignored; no line for this file is an error (thrown as a message).
 */
export function parseSidecar(text: string, file: string, algorithm: Algorithm): string {
  const hex = `[0-9a-fA-F]{${HEX_LENGTH[algorithm]}}`;
  const gnu = new RegExp(`^(${hex})(?:\\s+\\*?(.+))?$`);
  const bsd = new RegExp(`^${algorithm}\\s*\\((.+)\\)\\s*=\\s*(${hex})$`, 'i');
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const g = gnu.exec(line);
    if (g && (g[2] === undefined || g[2] === file)) return g[1]!.toLowerCase();
    const b = bsd.exec(line);
    if (b && b[1] === file) return b[2]!.toLowerCase();
  }
  throw new Error(`no ${algorithm} digest for ${file} in its ${SIDECARS[algorithm]} file`);
}

/** Merges published checksums; two sources publishing different values for one algorithm is an error. */
export function mergePublished(a: Published, b: Published, what: string): Published {
  for (const k of ['sha256', 'md5'] as const) {
    if (a[k] && b[k] && a[k] !== b[k]) throw new Error(`published ${k} checksums disagree (manifest ${a[k]}, ${what} ${b[k]})`);
  }
  return { ...a, ...b };
}

/** The first published checksum the received bytes do not match, as a message; undefined when all match. */
export function checksumMismatch(published: Published, got: Required<Published>): string | undefined {
  for (const k of ['sha256', 'md5'] as const) {
    const want = published[k];
    if (want && want !== got[k]) return `${k} mismatch: published ${want}, received ${got[k]}`;
  }
  return undefined;
}

/**
 * A pass-through stream that hashes what flows through it (sha256 and md5 in one read of the bytes) and fails,
 * never truncates silently, past `maxBytes`.
 */
export class Digester extends Transform {
  private readonly sha = createHash('sha256');
  private readonly md5: Hash = createHash('md5');
  private readonly maxBytes: number;
  private readonly onChunk: ((bytes: number) => void) | undefined;
  bytes = 0;

  constructor(maxBytes: number, onChunk?: (bytes: number) => void) {
    super();
    this.maxBytes = maxBytes;
    this.onChunk = onChunk;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return cb(new Error(`more than maxBytes ${this.maxBytes}`));
    this.sha.update(chunk);
    this.md5.update(chunk);
    this.onChunk?.(this.bytes);
    cb(null, chunk);
  }

  /** Call once the stream has ended. */
  digests(): Required<Published> {
    return { sha256: this.sha.digest('hex'), md5: this.md5.digest('hex') };
  }
}
