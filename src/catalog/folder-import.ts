import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactKind, ArtifactRecord } from '../store/index.ts';
import type { Catalog } from './catalog.ts';

export interface FolderImportOptions {
  profile: string;
  kind: ArtifactKind;
  models?: string[];
  role?: string;
  origin?: string;
}

export interface FolderImportResult {
  added: ArtifactRecord[];
  unchanged: string[];
  skipped: Array<{ file: string; reason: string }>;
}

/** The first dotted number in a file name ("MP11x_6.60A.245.003.cmp" → "6.60A.245.003"), or ''. */
export function versionFromName(name: string): string {
  const stem = name.replace(/\.[A-Za-z]+$/, '');
  return /\d+(?:\.[0-9A-Za-z]+)+/.exec(stem)?.[0] ?? /\d+/.exec(stem)?.[0] ?? '';
}

/** The sha256 of a file, streamed (artifacts may be large). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/**
 * The sha256 of every shared artifact already filling the slot (profile, kind, role, models) an import adds
 * to: lets a source skip fetching a file it already has. Catalog.add decides the same way for what is added.
 */
export function slotShas(catalog: Catalog, o: FolderImportOptions): Set<string> {
  const role = o.role ?? '';
  const models = [...new Set(o.models ?? [])].sort().join(',');
  return new Set(
    catalog
      .list(o.profile)
      .filter((a) => a.kind === o.kind && a.role === role && a.deviceId === null && a.models.join(',') === models)
      .map((a) => a.sha256),
  );
}

export type FileImportOutcome =
  | { status: 'added'; sha256: string; artifact: ArtifactRecord }
  | { status: 'unchanged'; sha256: string }
  | { status: 'skipped'; reason: string };

/**
 * Adds one local file under `name` unless its bytes already fill the slot (`known`, from slotShas, is
 * updated). Shared by folder imports and upstream sources so both decide "already there" the same way.
 */
export async function importFile(
  catalog: Catalog,
  path: string,
  name: string,
  o: FolderImportOptions,
  known: Set<string>,
): Promise<FileImportOutcome> {
  const sha = await sha256File(path);
  if (known.has(sha)) return { status: 'unchanged', sha256: sha };
  try {
    const { artifact, existing } = await catalog.add(
      { path },
      { ...o, version: versionFromName(name), filename: name, origin: o.origin ?? 'folder' },
    );
    known.add(artifact.sha256);
    return existing ? { status: 'unchanged', sha256: artifact.sha256 } : { status: 'added', sha256: artifact.sha256, artifact };
  } catch (e) {
    return { status: 'skipped', reason: (e as Error).message };
  }
}

/**
 * Adds every regular, non-hidden file of a folder as an artifact of one profile and kind, with the version
 * taken from its name. Idempotent: a file whose bytes already fill the same slot is left alone, so a folder
 * (or an upstream mirror of one) can be imported again and again. Symbolic links are never followed (a link
 * to /etc/passwd must not become an artifact served to devices): they are reported as skipped.
 */
export async function importFolder(catalog: Catalog, dir: string, o: FolderImportOptions): Promise<FolderImportResult> {
  const result: FolderImportResult = { added: [], unchanged: [], skipped: [] };
  const known = slotShas(catalog, o);
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name.startsWith('.')) continue;
    const st = lstatSync(path);
    if (st.isSymbolicLink()) {
      result.skipped.push({ file: name, reason: 'symbolic link, not followed' });
      continue;
    }
    if (!st.isFile()) continue;
    const r = await importFile(catalog, path, name, o, known);
    if (r.status === 'added') result.added.push(r.artifact);
    else if (r.status === 'unchanged') result.unchanged.push(name);
    else result.skipped.push({ file: name, reason: r.reason });
  }
  return result;
}
