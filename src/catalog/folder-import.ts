import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
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

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/**
 * Adds every regular, non-hidden file of a folder as an artifact of one profile and kind, with the version
 * taken from its name. Idempotent: a file whose bytes already fill the same slot is left alone, so a folder
 * (or an upstream mirror of one) can be imported again and again.
 */
export async function importFolder(catalog: Catalog, dir: string, o: FolderImportOptions): Promise<FolderImportResult> {
  const result: FolderImportResult = { added: [], unchanged: [], skipped: [] };
  const existing = catalog.list(o.profile).filter((a) => a.kind === o.kind && a.role === (o.role ?? '') && a.deviceId === null);
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name.startsWith('.') || !statSync(path).isFile()) continue;
    const sha = await sha256(path);
    if (existing.some((a) => a.sha256 === sha)) {
      result.unchanged.push(name);
      continue;
    }
    try {
      result.added.push(await catalog.addFile(path, { ...o, version: versionFromName(name), filename: name, origin: o.origin ?? 'folder' }));
    } catch (e) {
      result.skipped.push({ file: name, reason: (e as Error).message });
    }
  }
  return result;
}
