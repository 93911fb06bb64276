import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isSafeFilename } from '../catalog/catalog.ts';
import { slotShas, versionFromName } from '../catalog/folder-import.ts';
import { ApsError } from '../errors.ts';
import {
  checksumMismatch,
  Digester,
  mergePublished,
  parseSidecar,
  SIDECAR_MAX_BYTES,
  sidecarOf,
  SIDECARS,
  type Algorithm,
} from './checksums.ts';
import { MANIFEST_MAX_BYTES, manifestChecksums, manifestTargets, parseManifest, type Manifest, type Published } from './manifest.ts';
import { applyRule, EVERY_FILE, type MappedTarget, type MappingDefaults } from './mapping.ts';
import type { SourceDeps, SourceFileResult, SyncOutcome } from './result.ts';
import { autoUnderRollout } from './rollout-hook.ts';
import type { SourceConfig } from './source-config.ts';

/** One regular file of the upstream folder; `skip` says why it is listed but never fetched (a symbolic link). */
export interface SourceEntry {
  name: string;
  size: number;
  /** Modification time as the upstream reports it; only compared with itself. */
  mtime: number;
  skip?: string;
}

/** The part of a source that differs per transport: listing the folder and reading one file. */
export interface SourceReader {
  list(): Promise<SourceEntry[]>;
  read(name: string): Readable;
  /** Why the connection is gone (every later file would fail alike), or undefined while it is up. */
  lost(): string | undefined;
}

/** What was imported under an upstream name, so an unchanged listing entry is not fetched again. */
interface Remembered {
  size: number;
  mtime: number;
  sha256: string;
  md5?: string;
  /** The sidecars' [size, mtime] when it was verified: a changed sidecar means "verify again". */
  sidecars?: Record<string, [number, number]>;
  /**
   * Targets the catalog refused (per target key), with the profile as it was then: an unchanged file is not
   * fetched again to be refused again, until the file or that profile changes.
   */
  refused?: Record<string, { reason: string; profile: string }>;
}

type Mapping = { targets: MappedTarget[]; published: Published } | { unmapped: string } | { problem: string };

/** The folder temp files go to: named `<pid>-…` so removeLeftBehind() clears what a killed run left. */
export function sourceTempDir(dataDir: string): string {
  return join(dataDir, 'sources', 'tmp');
}

/**
 * Mirrors one upstream folder into the catalog: maps each file (manifest, then pattern rules; unmapped files
 * are reported and never fetched), fetches the new ones into a temp file while hashing them, checks every
 * published checksum, then adds one artifact per target. Never throws for upstream trouble: a bad file is that
 * file's result, a lost connection or an unreadable manifest the outcome's `error`.
 */
export async function syncEntries(src: SourceConfig, reader: SourceReader, deps: SourceDeps): Promise<SyncOutcome> {
  const files: SourceFileResult[] = [];
  const log = deps.log.child({ source: src.name });
  const origin = `${src.type}:${src.name}`;
  const defaults: MappingDefaults = { profile: src.profile, kind: src.kind, role: src.role, models: src.models };
  const rules = src.map ?? (src.manifest ? [] : [EVERY_FILE]);
  const cancelled = (): boolean => deps.signal?.aborted === true;
  const slots = new Map<string, Set<string>>();
  const targetKey = (t: MappedTarget): string => JSON.stringify([t.profile, t.kind, t.role ?? '', [...new Set(t.models ?? [])].sort()]);
  const profileNow = (profile: string): string => deps.profileFingerprint?.(profile) ?? '';
  const slotOf = (t: MappedTarget): Set<string> => {
    const key = targetKey(t);
    let s = slots.get(key);
    if (!s) slots.set(key, (s = slotShas(deps.catalog, { profile: t.profile, kind: t.kind, role: t.role, models: t.models })));
    return s;
  };

  try {
    const tmpDir = sourceTempDir(deps.dataDir);
    mkdirSync(tmpDir, { recursive: true });
    const entries = (await reader.list()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const byName = new Map(entries.map((e) => [e.name, e]));
    let manifest: Manifest | undefined;
    if (src.manifest) {
      const m = byName.get(src.manifest);
      if (!m) throw new ApsError('not_found', `manifest ${src.manifest} is not in the folder`);
      // A reader lists what it will not open (a symbolic link) as skipped: the manifest is no exception.
      if (m.skip) throw new ApsError('bad_request', `manifest ${src.manifest} is not read: ${m.skip}`);
      manifest = parseManifest(src.manifest, await readSmall(reader, m, MANIFEST_MAX_BYTES), defaults);
    }
    // Sidecars of a listed file (FILE.sha256, FILE.MD5…) and the manifest describe files; never artifacts themselves.
    const sidecarsOf = new Map<string, Array<{ algorithm: Algorithm; entry: SourceEntry }>>();
    for (const e of entries) {
      const s = sidecarOf(e.name);
      if (s && byName.has(s.file) && !e.skip)
        sidecarsOf.set(s.file, [...(sidecarsOf.get(s.file) ?? []), { algorithm: s.algorithm, entry: e }]);
    }
    const isMetadata = (name: string): boolean => name === src.manifest || byName.has(sidecarOf(name)?.file ?? '');

    const mapFile = (name: string): Mapping => {
      const listed = manifest?.entries.get(name);
      let targets: MappedTarget[] | undefined;
      let published: Published = {};
      if (listed) {
        targets = manifestTargets(listed, defaults);
        published = manifestChecksums(listed);
      } else {
        for (const rule of rules) {
          const o = applyRule(rule, defaults, name);
          if (!o.match) continue;
          if ('problem' in o) return { problem: o.problem };
          targets = [o.target];
          break;
        }
      }
      if (!targets) return { unmapped: manifest ? `not in ${manifest.name}, and no rule matches the name` : 'no rule matches the name' };
      for (const t of targets) {
        const models = deps.profileModels ? deps.profileModels(t.profile) : [];
        if (models === undefined) return { problem: `no profile "${t.profile}"` };
        const stray = (t.models ?? []).find((m) => models.length > 0 && !models.includes(m));
        if (stray !== undefined) return { problem: `model "${stray}" is not one of profile ${t.profile}'s models (${models.join(', ')})` };
        // A manifest names profiles the config check cannot see: checked here, before anything is added.
        if (src.rollout && deps.profileRelease && deps.profileRelease(t.profile) !== 'manual')
          return { problem: autoUnderRollout(`${manifest?.name ?? 'map'}`, src.name, t.profile) };
      }
      return { targets, published };
    };

    for (const f of entries) {
      if (cancelled()) throw new ApsError('conflict', 'run cancelled');
      // A skipped entry (a symbolic link) is reported as such even when its name is a sidecar's: never read.
      if (isMetadata(f.name) && !f.skip) continue;
      if (f.skip) {
        files.push({ file: f.name, status: 'skipped', reason: f.skip });
        continue;
      }
      if (!isSafeFilename(f.name)) {
        files.push({ file: f.name, status: 'skipped', reason: 'file name is not acceptable as an artifact name' });
        continue;
      }
      const mapping = mapFile(f.name);
      if ('unmapped' in mapping) {
        files.push({ file: f.name, status: 'unmapped', reason: mapping.unmapped });
        continue;
      }
      if ('problem' in mapping) {
        files.push({ file: f.name, status: 'failed', reason: mapping.problem });
        continue;
      }
      const { targets } = mapping;
      const each = (r: Omit<SourceFileResult, 'file' | 'profile'>): void => {
        for (const t of targets) files.push({ file: f.name, profile: t.profile, ...r });
      };
      if (f.size > src.maxBytes) {
        log.warn({ file: f.name, size: f.size, maxBytes: src.maxBytes }, 'source: file larger than maxBytes, skipped');
        each({ status: 'skipped', reason: `${f.size} bytes is more than maxBytes ${src.maxBytes}` });
        continue;
      }
      const sidecars = sidecarsOf.get(f.name) ?? [];
      const stamps = Object.fromEntries(sidecars.map((s) => [s.entry.name, [s.entry.size, s.entry.mtime] as [number, number]]));
      const key = `${src.name}/${f.name}`;
      const seen = deps.state.get<Remembered>(key);
      const refusedBefore = (t: MappedTarget): string | undefined => {
        const r = seen?.refused?.[targetKey(t)];
        return r && r.profile === profileNow(t.profile) ? r.reason : undefined;
      };
      if (
        seen &&
        unchanged(seen, f, stamps, mapping.published) &&
        targets.every((t) => slotOf(t).has(seen.sha256) || refusedBefore(t) !== undefined)
      ) {
        for (const t of targets) {
          const why = slotOf(t).has(seen.sha256) ? undefined : refusedBefore(t);
          files.push(
            why === undefined
              ? { file: f.name, profile: t.profile, status: 'unchanged', downloaded: 0 }
              : {
                  file: f.name,
                  profile: t.profile,
                  status: 'skipped',
                  reason: `${why} (refused before: not fetched again until the file or the profile changes)`,
                  downloaded: 0,
                },
          );
        }
        continue;
      }

      const tmp = join(tmpDir, `${process.pid}-${src.name}-${randomBytes(6).toString('hex')}.part`);
      try {
        let published = mapping.published;
        for (const s of sidecars) {
          const text = (await readSmall(reader, s.entry, SIDECAR_MAX_BYTES)).toString('utf8');
          published = mergePublished(published, { [s.algorithm]: parseSidecar(text, f.name, s.algorithm) }, s.entry.name);
        }
        if (src.checksums === 'require' && !published.sha256 && !published.md5) {
          each({
            status: 'failed',
            reason: `no published checksum (checksums: require): add it to the manifest or a ${SIDECARS.sha256} file`,
          });
          continue;
        }
        const progress = (bytes: number, done: boolean): void =>
          deps.onProgress?.({ source: src.name, file: f.name, bytes, total: f.size, done });
        const got = await download(reader, f.name, tmp, src.maxBytes, progress);
        // A size that differs from the listing means the upstream file is still being written: retry next run.
        if (got.bytes !== f.size) throw new Error(`size changed during download (${f.size} listed, ${got.bytes} read)`);
        const mismatch = checksumMismatch(published, got);
        if (mismatch) {
          log.warn({ file: f.name, reason: mismatch }, 'source: checksum mismatch, nothing added');
          each({ status: 'failed', reason: mismatch, downloaded: got.bytes });
          continue;
        }
        let downloaded = got.bytes;
        const refused: NonNullable<Remembered['refused']> = {};
        for (const t of targets) {
          const r = await addTarget(deps, tmp, f.name, t, origin);
          if (r.status === 'skipped') refused[targetKey(t)] = { reason: r.reason ?? 'refused', profile: profileNow(t.profile) };
          // The bytes count once per file, not once per artifact made from it.
          files.push({ file: f.name, profile: t.profile, ...r, ...(downloaded ? { downloaded } : {}) });
          downloaded = 0;
          if (r.status === 'added' || r.status === 'unchanged') slotOf(t).add(got.sha256);
          if (r.status === 'added')
            log.info({ file: f.name, artifact: r.artifactId, version: r.version, size: got.bytes }, 'source: artifact added');
        }
        deps.state.set(key, {
          size: f.size,
          mtime: f.mtime,
          sha256: got.sha256,
          md5: got.md5,
          sidecars: stamps,
          ...(Object.keys(refused).length > 0 ? { refused } : {}),
        } satisfies Remembered);
      } catch (e) {
        const reason = cancelled() ? 'run cancelled' : cleanMessage(e);
        log.warn({ file: f.name, reason }, 'source: file failed');
        each({ status: 'failed', reason });
        // A dead connection fails every later file the same way: report it once as the run's error.
        const lost = reader.lost();
        if (lost !== undefined || cancelled()) throw new ApsError('conflict', cancelled() ? 'run cancelled' : lost!);
      } finally {
        await rm(tmp, { force: true });
      }
    }
    for (const [name, list] of manifest?.entries ?? []) {
      if (!byName.has(name))
        for (const t of manifestTargets(list, defaults))
          files.push({ file: name, profile: t.profile, status: 'failed', reason: `listed in ${manifest!.name} but not in the folder` });
    }
    // Forget files that left the upstream folder, so the remembered state stays the size of the listing.
    for (const { key } of deps.state.entries(`${src.name}/`)) if (!byName.has(key.slice(src.name.length + 1))) deps.state.delete(key);
    return { files, listed: entries.map((e) => e.name) };
  } catch (e) {
    const error = `${src.type} source "${src.name}": ${cleanMessage(e)}`;
    log.error({ err: error }, `${src.type} source: run failed`);
    return { files, error };
  }
}

function unchanged(seen: Remembered, f: SourceEntry, stamps: Record<string, [number, number]>, published: Published): boolean {
  if (seen.size !== f.size || seen.mtime !== f.mtime) return false;
  if (JSON.stringify(seen.sidecars ?? {}) !== JSON.stringify(stamps)) return false;
  if (published.sha256 && published.sha256 !== seen.sha256) return false;
  return !published.md5 || published.md5 === seen.md5;
}

async function addTarget(
  deps: SourceDeps,
  path: string,
  name: string,
  t: MappedTarget,
  origin: string,
): Promise<Omit<SourceFileResult, 'file' | 'profile'>> {
  try {
    const { artifact, existing } = await deps.catalog.add(
      { path },
      {
        profile: t.profile,
        kind: t.kind,
        role: t.role,
        models: t.models,
        version: t.version ?? versionFromName(name),
        serial: t.serial ?? null,
        filename: name,
        origin,
      },
    );
    return existing ? { status: 'unchanged' } : { status: 'added', artifactId: artifact.id, version: artifact.version };
  } catch (e) {
    // The catalog refuses what the profile cannot serve (a kind its adapter has no slot for…): not retried.
    return { status: 'skipped', reason: (e as Error).message };
  }
}

/** A small upstream file (manifest, sidecar) read whole, refusing one larger than `max`. */
async function readSmall(reader: SourceReader, f: SourceEntry, max: number): Promise<Buffer> {
  if (f.size > max) throw new Error(`${f.name} is ${f.size} bytes, more than the ${max} a checksum or manifest file may have`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of reader.read(f.name)) {
    n += (c as Buffer).length;
    if (n > max) throw new Error(`${f.name} grew past ${max} bytes while being read`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Streams one upstream file to a local temp file, hashing it on the way. The temp file is created before the
 * first byte is asked for, and this returns only once the file stream has closed (on failure too): pipeline()
 * rejects on the first error without waiting for the other streams, and a write stream still opening would
 * create the file after the caller's rm() (a `.part` left behind under load).
 */
async function download(
  reader: SourceReader,
  name: string,
  local: string,
  maxBytes: number,
  progress: (bytes: number, done: boolean) => void,
): Promise<Required<Published> & { bytes: number }> {
  const digest = new Digester(maxBytes, (n) => progress(n, false));
  const file = await open(local, 'wx', 0o600);
  progress(0, false);
  const out = file.createWriteStream();
  const closed = new Promise<void>((resolve) => (out.closed ? resolve() : out.once('close', () => resolve())));
  try {
    await pipeline(reader.read(name), digest, out);
  } finally {
    out.destroy();
    await closed;
    progress(digest.bytes, true);
  }
  return { ...digest.digests(), bytes: digest.bytes };
}

export function cleanMessage(e: unknown): string {
  // ssh2-sftp-client prefixes its method name ("getConnection: ", "list: "); the caller says what failed.
  // Upper-case prefixes (ENOENT: …) are the system's error codes, kept.
  return (e instanceof Error ? e.message : String(e)).replace(/^_?[a-z][A-Za-z]*(?::|->)\s*/, '');
}
