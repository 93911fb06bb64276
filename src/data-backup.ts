import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { deviceBackupDir } from './backups/backup-store.ts';
import { sha256File } from './catalog/folder-import.ts';
import { ApsError } from './errors.ts';
import { copyFileAtomic, fsyncDir, writeFileAtomic } from './fs-atomic.ts';
import { openStore, openStoreReadOnly, type Store } from './store/index.ts';

/**
 * Backups of APS itself: a folder laid out like a data folder (aps.sqlite, blobs/, backups/, secret.key…)
 * plus manifest.json naming every file with its size and sha256. The manifest is written last: a folder
 * without one is an interrupted backup. Such a folder is itself a valid data folder; restore copies it.
 */
export const MANIFEST = 'manifest.json';
const DB = 'aps.sqlite';
/** Files besides the database and blobs a data folder needs: the key sealed secrets and backups need, the admin token, the TLS pair. */
const KEY_FILES = ['secret.key', 'admin.token', join('tls', 'cert.pem'), join('tls', 'key.pem')];
const SECRET_KEY = 'secret.key';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: 1;
  createdAt: string;
  /** The data folder the backup was taken of. */
  source: string;
  /** The store's schema version (PRAGMA user_version). */
  schema: number;
  artifacts: number;
  deviceBackups: number;
  /** Taken with --without-keys: no secret.key, admin.token or TLS pair; restore needs the secret.key kept apart. */
  withoutKeys?: true;
  files: ManifestFile[];
}

export interface VerifyReport {
  /** The data or backup folder checked. */
  folder: string;
  ok: boolean;
  /** PRAGMA integrity_check's findings (empty: sound). */
  integrity: string[];
  blobs: {
    checked: number;
    /** Blobs the catalog names whose bytes hash to something else (or have another size). */
    mismatched: string[];
    /** Blobs the catalog names that are not there. */
    missing: string[];
    /** Blob files no artifact names (harmless: a crash between a blob's rename and its row). */
    orphans: string[];
  };
  /** Device backup files the store names that are not there. */
  deviceBackupsMissing: string[];
  /** Only for a backup folder: manifest entries missing or not matching their sha256. */
  manifest?: { checked: number; mismatched: string[] };
}

/** A file's sha256 (streamed: blobs may be large) and size. */
async function hashOf(path: string): Promise<{ sha256: string; size: number }> {
  return { sha256: await sha256File(path), size: statSync(path).size };
}

function blobPath(root: string, sha256: string): string {
  return join(root, 'blobs', sha256.slice(0, 2), sha256);
}

/** What the store names: each artifact's blob (sha256, size) and each device backup file. */
function referenced(store: Store, root: string): { blobs: Map<string, number>; backupFiles: string[] } {
  const blobs = new Map(store.artifacts.list().map((a) => [a.sha256, a.size]));
  const backupFiles = store.backups.allFiles().map((f) => relative(root, join(deviceBackupDir(root, f.deviceId), f.file)));
  return { blobs, backupFiles };
}

/** Copies one file owner-only into the backup, creating owner-only folders; returns its manifest entry. */
async function copyInto(from: string, to: string, path: string): Promise<ManifestFile> {
  mkdirSync(dirname(join(to, path)), { recursive: true, mode: 0o700 });
  copyFileSync(join(from, path), join(to, path));
  chmodSync(join(to, path), 0o600);
  const { sha256, size } = await hashOf(join(to, path));
  return { path: path.split(sep).join('/'), size, sha256 };
}

/**
 * `aps data backup DIR`: an online copy of the store (while the server runs), then the blobs and device
 * backup files that copy names, the key files, and the manifest. Each blob is checked against its sha256
 * as it is copied: a backup never carries a corrupt blob silently.
 */
export async function backupData(dataDir: string, dir: string, opts: { withoutKeys?: boolean } = {}): Promise<Manifest> {
  if (!existsSync(join(dataDir, DB))) throw new ApsError('not_found', `no APS data folder at ${dataDir} (no ${DB})`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new ApsError('conflict', `${dir} is not empty: back up into a new folder`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const live = openStore(dataDir);
  try {
    await live.backupTo(join(dir, DB));
  } finally {
    live.close();
  }
  const copy = openStoreReadOnly(join(dir, DB));
  let refs: ReturnType<typeof referenced>;
  let schema: number;
  try {
    refs = referenced(copy, dir);
    schema = copy.db.pragma('user_version', { simple: true }) as number;
  } finally {
    copy.close();
  }
  const files: ManifestFile[] = [];
  files.push({ path: DB, ...(await hashOf(join(dir, DB))) });
  for (const [sha256, size] of refs.blobs) {
    const path = relative(dataDir, blobPath(dataDir, sha256));
    if (!existsSync(join(dataDir, path)))
      throw new ApsError('conflict', `blob ${sha256} is missing from the data folder (removed meanwhile?): run aps data verify`);
    const f = await copyInto(dataDir, dir, path);
    if (f.sha256 !== sha256 || f.size !== size)
      throw new ApsError('conflict', `blob ${sha256} does not match its sha256: run aps data verify`);
    files.push(f);
  }
  for (const path of refs.backupFiles) {
    if (existsSync(join(dataDir, path))) files.push(await copyInto(dataDir, dir, path));
  }
  // --without-keys leaves out the whole set: a TLS certificate without its key would not load, a new pair is made.
  if (!opts.withoutKeys) for (const path of KEY_FILES) if (existsSync(join(dataDir, path))) files.push(await copyInto(dataDir, dir, path));
  const manifest: Manifest = {
    format: 1,
    createdAt: new Date().toISOString(),
    source: dataDir,
    schema,
    artifacts: refs.blobs.size,
    deviceBackups: refs.backupFiles.length,
    ...(opts.withoutKeys ? { withoutKeys: true as const } : {}),
    files,
  };
  writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', 0o600);
  return manifest;
}

/**
 * Where a manifest entry lives under `root`, or undefined when it would land elsewhere: an absolute path, a
 * `..` segment, or anything resolving outside `root` (a crafted backup must not write or read beside the data
 * folder). Manifests say `/`; a backslash is refused too, as it is a separator on Windows.
 */
export function insidePath(root: string, path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '' || path.includes('\\') || path.includes('\0')) return undefined;
  if (isAbsolute(path) || path.split('/').some((seg) => seg === '..' || seg === '')) return undefined;
  const full = resolve(root, path);
  const rel = relative(resolve(root), full);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? full : undefined;
}

function readManifest(dir: string): Manifest {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
    if (m.format !== 1 || !Array.isArray(m.files)) throw new Error('not an APS data backup manifest');
    const bad = m.files.find((f) => insidePath(dir, (f as Partial<ManifestFile> | null)?.path) === undefined);
    if (bad !== undefined) throw new Error(`names a file outside the backup folder: ${JSON.stringify(bad?.path).slice(0, 200)}`);
    return m;
  } catch (e) {
    throw new ApsError(
      'bad_request',
      `${join(dir, MANIFEST)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing (an interrupted backup?)' : (e as Error).message}`,
    );
  }
}

/** Every blob file under `root`/blobs (the temp folder aside), by sha256 name. */
function blobFiles(root: string): string[] {
  const out: string[] = [];
  const blobs = join(root, 'blobs');
  if (!existsSync(blobs)) return out;
  for (const shard of readdirSync(blobs, { withFileTypes: true })) {
    if (!shard.isDirectory() || shard.name === 'tmp') continue;
    for (const f of readdirSync(join(blobs, shard.name))) out.push(f);
  }
  return out;
}

/**
 * `aps data verify [DIR]`: the store's integrity check, every blob the catalog names hashed against its
 * sha256, orphan and missing blobs, missing device backup files; for a backup folder (one with a manifest)
 * every file against the manifest too. A live data folder is checked read-only beside a running server.
 */
export async function verifyData(folder: string): Promise<VerifyReport> {
  if (!existsSync(join(folder, DB))) throw new ApsError('not_found', `no ${DB} in ${folder}`);
  const isBackup = existsSync(join(folder, MANIFEST));
  const report: VerifyReport = {
    folder,
    ok: false,
    integrity: [],
    blobs: { checked: 0, mismatched: [], missing: [], orphans: [] },
    deviceBackupsMissing: [],
  };
  if (isBackup) {
    const m = readManifest(folder);
    const mismatched: string[] = [];
    for (const f of m.files) {
      const h = existsSync(join(folder, f.path)) ? await hashOf(join(folder, f.path)) : undefined;
      if (!h || h.sha256 !== f.sha256 || h.size !== f.size) mismatched.push(f.path);
    }
    report.manifest = { checked: m.files.length, mismatched };
  }
  // A backup is opened read-only (verifying never changes it); the live store is opened as the CLI opens it.
  const store = isBackup ? openStoreReadOnly(join(folder, DB)) : openStore(folder);
  let refs: ReturnType<typeof referenced>;
  try {
    report.integrity = store.integrityProblems();
    refs = referenced(store, folder);
  } finally {
    store.close();
  }
  for (const [sha256, size] of refs.blobs) {
    const path = blobPath(folder, sha256);
    if (!existsSync(path)) {
      report.blobs.missing.push(sha256);
      continue;
    }
    report.blobs.checked++;
    const h = await hashOf(path);
    if (h.sha256 !== sha256 || h.size !== size) report.blobs.mismatched.push(sha256);
  }
  report.blobs.orphans = blobFiles(folder).filter((f) => !refs.blobs.has(f));
  report.deviceBackupsMissing = refs.backupFiles.filter((p) => !existsSync(join(folder, p)));
  report.ok =
    report.integrity.length === 0 &&
    report.blobs.mismatched.length === 0 &&
    report.blobs.missing.length === 0 &&
    report.deviceBackupsMissing.length === 0 &&
    (report.manifest?.mismatched.length ?? 0) === 0;
  return report;
}

/**
 * `aps data restore DIR --data-dir X`: verifies the backup, then copies it into X, which must not hold a
 * store yet (the server stopped, the old folder moved aside). Files land owner-only; the manifest stays behind.
 */
export async function restoreData(
  dir: string,
  dataDir: string,
  opts: { keyFile?: string } = {},
): Promise<{ files: number; report: VerifyReport }> {
  if (!existsSync(join(dir, MANIFEST))) throw new ApsError('bad_request', `${dir} is not an APS data backup (no ${MANIFEST})`);
  if (existsSync(join(dataDir, DB))) {
    throw new ApsError('conflict', `${dataDir} already holds a store: stop the server and move the folder aside before restoring into it`);
  }
  const report = await verifyData(dir);
  if (!report.ok) throw new ApsError('conflict', `the backup in ${dir} does not verify: run aps data verify ${dir}`);
  const m = readManifest(dir);
  const hasKey = m.files.some((f) => f.path === SECRET_KEY);
  // Without its key a restored store's sealed secrets and backups cannot be opened, and a server would make a new one.
  if (!hasKey && opts.keyFile === undefined)
    throw new ApsError('bad_request', `${dir} holds no ${SECRET_KEY} (taken --without-keys): give the one kept apart with --key FILE`);
  if (hasKey && opts.keyFile !== undefined)
    throw new ApsError('bad_request', `${dir} holds its own ${SECRET_KEY}: --key is only for a backup without keys`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Each file lands whole, and the store last: a restore killed midway leaves no aps.sqlite, so running it
  // again is allowed and nothing half-copied is ever opened as a store.
  if (opts.keyFile !== undefined) copyFileAtomic(opts.keyFile, join(dataDir, SECRET_KEY));
  const files = [...m.files.filter((f) => f.path !== DB), ...m.files.filter((f) => f.path === DB)];
  for (const f of files) {
    const to = insidePath(dataDir, f.path);
    // readManifest checked every path against the backup folder; the target is checked as well, and only
    // regular files are copied (a symbolic link in a backup would copy whatever it points at).
    if (to === undefined || !lstatSync(join(dir, f.path)).isFile())
      throw new ApsError('bad_request', `${dir}: manifest entry ${JSON.stringify(f.path)} is not a file inside the backup`);
    mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
    copyFileAtomic(join(dir, f.path), to);
  }
  fsyncDir(dataDir);
  return { files: m.files.length, report };
}
