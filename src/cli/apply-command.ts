import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Adapter } from '../adapter.ts';
import { checkSize, isSafeFilename } from '../catalog/catalog.ts';
import { sha256File } from '../catalog/folder-import.ts';
import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import type { ArtifactRecord } from '../store/index.ts';
import { withCore } from './context.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const applySchema = z
  .object({
    groups: z
      .array(
        z
          .object({
            name: z.string(),
            vars: z.record(z.string(), scalar).default({}),
            pins: z.record(z.string(), z.number().int()).default({}),
          })
          .strict(),
      )
      .default([]),
    artifacts: z
      .array(
        z
          .object({
            file: z.string(),
            profile: z.string(),
            kind: z.enum(['bootstrap', 'firmware', 'config', 'aux']),
            version: scalar.optional(),
            serial: z.number().int().nonnegative().optional(),
            models: z.array(z.string()).default([]),
            role: z.string().optional(),
            device: z.string().optional(),
            name: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    devices: z
      .array(
        z
          .object({
            id: z.string(),
            profile: z.string(),
            model: z.string().optional(),
            mac: z.string().optional(),
            group: z.string().optional(),
            password: scalar.optional(),
            vars: z.record(z.string(), scalar).default({}),
            pins: z.record(z.string(), z.number().int()).default({}),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type ApplyFile = z.infer<typeof applySchema>;

export interface ApplySummary {
  groups: number;
  devices: number;
  artifactsAdded: number;
  artifactsKept: number;
}

/**
 * Idempotent upsert from one file: groups, then devices (so per-device artifacts find their device),
 * then artifacts; an artifact whose bytes and slot are already in the catalog is kept, not added again.
 * Everything is checked first and groups and devices go in one transaction, so a bad entry changes nothing.
 */
export async function applyFile(core: Core, path: string): Promise<ApplySummary> {
  const doc = readApplyFile(path);
  const base = dirname(resolve(path));
  const artifacts: Array<{ entry: ApplyFile['artifacts'][number]; file: string; sha256: string }> = [];
  for (const [i, a] of doc.artifacts.entries()) {
    const at = `${path}: artifacts[${i}] (${a.file})`;
    const file = resolve(base, a.file);
    const name = a.name ?? basename(file);
    context(at, () => core.profiles.require(a.profile));
    if (!isSafeFilename(name))
      throw new ApsError('bad_request', `${at}: file name "${name}" must be letters, digits, "._+-", starting with a letter or digit`);
    // The catalog's own checks, made here too so a bad artifact stops the file before anything is written.
    if (a.device) {
      const owner = doc.devices.find((d) => d.id === a.device) ?? core.devices.get(a.device);
      if (!owner) throw new ApsError('bad_request', `${at}: no device ${a.device}`);
      if (owner.profile !== a.profile)
        throw new ApsError('bad_request', `${at}: device ${a.device} uses profile ${owner.profile}, not ${a.profile}`);
    }
    const size = await stat(file)
      .then((st) => st.size)
      .catch(() => {
        throw new ApsError('bad_request', `${at}: the file cannot be read`);
      });
    context(at, () => checkSize(a.kind, size));
    context(at, () => core.catalog.assertSlot(a.profile, a.kind, a.role ?? ''));
    const sha256 = await sha256File(file).catch(() => {
      throw new ApsError('bad_request', `${at}: the file cannot be read`);
    });
    const same = sameArtifact(core, a, sha256);
    if (same) {
      // Artifacts are immutable (devices compare their serials and dates): other metadata for the same bytes
      // and version is refused before anything is written, never silently ignored.
      const wanted = { serial: a.serial ?? null, models: [...new Set(a.models ?? [])].sort().join(','), filename: name };
      const differs = (Object.keys(wanted) as Array<keyof typeof wanted>).filter(
        (k) => (k === 'models' ? same.models.join(',') : same[k]) !== wanted[k],
      );
      if (differs.length > 0) {
        throw new ApsError(
          'conflict',
          `${at}: artifact ${same.id} has these bytes and version with another ${differs.join(', ')}; artifacts cannot be edited: give a new version, or remove artifact ${same.id} first`,
        );
      }
    }
    artifacts.push({ entry: a, file, sha256 });
  }
  const summary: ApplySummary = { groups: 0, devices: 0, artifactsAdded: 0, artifactsKept: 0 };
  // scrypt runs here, in parallel on the thread pool; the transaction below only writes.
  const devices = await Promise.all(doc.devices.map((d) => core.devices.prepareCredentials(d)));
  core.store.transaction(() => {
    for (const [i, g] of doc.groups.entries()) context(`${path}: groups[${i}] (${g.name})`, () => core.devices.upsertGroup(g));
    for (const [i, d] of devices.entries()) context(`${path}: devices[${i}] (${d.id})`, () => core.devices.upsert(d));
  });
  summary.groups = doc.groups.length;
  summary.devices = doc.devices.length;
  for (const { entry: a, file, sha256 } of artifacts) {
    const role = a.role ?? '';
    if (sameArtifact(core, a, sha256)) {
      summary.artifactsKept++;
      continue;
    }
    // The catalog returns the artifact already holding these bytes in this slot (existing), adding nothing.
    const { existing } = await core.catalog.add(
      { path: file },
      {
        kind: a.kind,
        profile: a.profile,
        version: a.version,
        serial: a.serial ?? null,
        models: a.models,
        role,
        deviceId: a.device ?? null,
        filename: a.name ?? basename(file),
        origin: 'apply',
      },
    );
    if (existing) summary.artifactsKept++;
    else summary.artifactsAdded++;
  }
  return summary;
}

/** The catalog's artifact with these bytes in this slot, for this device, at this version: applied before. */
function sameArtifact(core: Core, a: ApplyFile['artifacts'][number], sha256: string): ArtifactRecord | undefined {
  const role = a.role ?? '';
  return core.catalog
    .list(a.profile)
    .find(
      (x) =>
        x.sha256 === sha256 && x.kind === a.kind && x.role === role && x.deviceId === (a.device ?? null) && x.version === (a.version ?? ''),
    );
}

function readApplyFile(path: string): ApplyFile {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ApsError('bad_request', `${path}: ${(e as Error).message}`);
  }
  const r = applySchema.safeParse(raw ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ApsError('bad_request', `${path}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  // Two entries for one device (or group) would silently let the last one win: refuse, naming both.
  refuseDuplicates(
    path,
    'devices',
    'id',
    r.data.devices.map((d) => d.id),
  );
  refuseDuplicates(
    path,
    'groups',
    'name',
    r.data.groups.map((g) => g.name),
  );
  return r.data;
}

function refuseDuplicates(path: string, list: string, key: string, values: string[]): void {
  const first = new Map<string, number>();
  for (const [i, v] of values.entries()) {
    const j = first.get(v);
    if (j !== undefined) throw new ApsError('bad_request', `${path}: ${list}[${j}] and ${list}[${i}] have the same ${key} "${v}"`);
    first.set(v, i);
  }
}

/** Runs fn, prefixing an ApsError's message with where in the file it happened. */
function context<T>(at: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ApsError) throw new ApsError(e.code, `${at}: ${e.message}`);
    throw e;
  }
}

export function applyCommand(program: Command, adapters: readonly Adapter[]): void {
  program
    .command('apply')
    .argument('<file>', 'YAML with groups, devices and artifacts')
    .description('idempotent upsert of groups, devices and artifacts from one file')
    .option('--json', 'print JSON')
    .action(async (file: string, o, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        const s = await applyFile(core, file);
        if (o.json) console.log(JSON.stringify(s));
        else
          console.log(
            `applied ${file}: ${s.groups} groups, ${s.devices} devices, ${s.artifactsAdded} artifacts added, ${s.artifactsKept} unchanged`,
          );
      });
    });
}
