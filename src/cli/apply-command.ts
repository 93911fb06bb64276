import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { addArtifact } from '../catalog/artifact-audit.ts';
import { checkSize, isSafeFilename } from '../catalog/catalog.ts';
import { pinProblem, type PinSubject } from '../catalog/pins.ts';
import { sha256File } from '../catalog/folder-import.ts';
import type { Core } from '../core.ts';
import { recordDeviceChange, recordGroupChange } from '../devices/device-audit.ts';
import { ApsError } from '../errors.ts';
import type { ArtifactRecord, GroupRecord } from '../store/index.ts';
import { parseWindow } from '../windows/window-def.ts';
import { withCore } from './context.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
// A pin names an artifact by id, or by the `file` of an `artifacts` entry of the same apply file (so one
// file can add a firmware and pin devices to it before anyone knows its id).
const pinValue = z.union([z.number().int(), z.string().min(1)]);

const applySchema = z
  .object({
    groups: z
      .array(
        z
          .object({
            name: z.string(),
            vars: z.record(z.string(), scalar).default({}),
            pins: z.record(z.string(), pinValue).default({}),
            /** Overrides the profiles' `release:` for this group's devices (README "Controlled change"). */
            release: z.enum(['auto', 'manual']).nullable().default(null),
            /** The group's maintenance window, overriding its devices' profiles' (README "Maintenance windows"); absent: none. */
            window: z.unknown().optional(),
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
            pins: z.record(z.string(), pinValue).default({}),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type ApplyFile = z.infer<typeof applySchema>;

/** What apply did to one object: artifacts are immutable, so they are never `updated`. */
export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export interface ApplyResult {
  file: string;
  groups: Array<{ name: string; result: ApplyOutcome }>;
  devices: Array<{ id: string; result: ApplyOutcome }>;
  /** `warning`: why a new artifact will not become anyone's target (the catalog's words). */
  artifacts: Array<{ file: string; id: number; result: 'created' | 'unchanged'; warning?: string }>;
  created: number;
  updated: number;
  unchanged: number;
}

type ArtifactEntry = ApplyFile['artifacts'][number];
type PinValue = z.infer<typeof pinValue>;

/**
 * Idempotent upsert from one file (format: README "aps apply"): groups, then devices (so per-device
 * artifacts find their device), then artifacts, then the pins that name an artifact added by this run; an
 * artifact whose bytes and slot are already in the catalog is kept, not added again. Everything is checked
 * first (pins included) and groups and devices go in one transaction, so a bad entry changes nothing. Each
 * object is reported created, updated or unchanged (compared before and after, timestamps aside), and each
 * change is recorded in the audit log by `who` (group.*, device.*, artifact.add).
 */
export async function applyFile(core: Core, path: string, who: string): Promise<ApplyResult> {
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
    const held = same
      ? undefined
      : core.catalog.holding(
          { profile: a.profile, kind: a.kind, role: a.role ?? '', deviceId: a.device ?? null, models: a.models },
          sha256,
        );
    if (held) {
      // The catalog would hand back that artifact (same bytes, same slot): a new version for old bytes would
      // be ignored without a word, and devices told the old one.
      throw new ApsError(
        'conflict',
        `${at}: artifact ${held.id} already holds these bytes in this slot as version "${held.version}"; artifacts cannot be edited: remove artifact ${held.id} first, or keep its version`,
      );
    }
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
  // Pins naming an artifact entry: its id now when the catalog has it, else set once it is added.
  // Several entries may share a file name (the same image for two profiles): a pin takes the one that fits.
  const byFile = new Map<string, number[]>();
  for (const [i, x] of artifacts.entries()) byFile.set(x.entry.file, [...(byFile.get(x.entry.file) ?? []), i]);
  const known = new Map<number, number>();
  for (const [i, x] of artifacts.entries()) {
    const same = sameArtifact(core, x.entry, x.sha256);
    if (same) known.set(i, same.id);
  }
  const resolvePins = (at: string, pins: Record<string, PinValue>, subject: PinSubject) => {
    const now: Record<string, number> = {};
    const later: Record<string, number> = {}; // slot -> artifacts index
    for (const [slot, v] of Object.entries(pins)) {
      if (typeof v === 'number') {
        now[slot] = v;
        continue;
      }
      const candidates = byFile.get(v);
      if (candidates === undefined)
        throw new ApsError('bad_request', `${at}: pin ${slot}: "${v}" is neither an artifact id nor the file of an artifacts entry`);
      const problems = candidates.map((c) => pinProblem(pseudoArtifact(artifacts[c]!.entry), slot, subject));
      const fit = problems.findIndex((p) => !p);
      if (fit < 0) throw new ApsError('bad_request', `${at}: cannot pin ${slot} to ${v}: ${problems[0]}`);
      const i = candidates[fit]!;
      const id = known.get(i);
      if (id !== undefined) now[slot] = id;
      else later[slot] = i;
    }
    return { now, later };
  };
  const groups = doc.groups.map((g, i) => {
    const where = `${path}: groups[${i}] (${g.name})`;
    const window = g.window === undefined || g.window === null ? undefined : parseWindow(g.window, where, 'bad_request');
    return { g, window, ...resolvePins(where, g.pins, {}) };
  });
  const deviceModel = (d: ApplyFile['devices'][number]): string | null => d.model ?? core.devices.get(d.id)?.model ?? null;
  const devPins = doc.devices.map((d, i) =>
    resolvePins(`${path}: devices[${i}] (${d.id})`, d.pins, { id: d.id, profile: d.profile, model: deviceModel(d) }),
  );

  const before = {
    groups: new Map(doc.groups.map((g) => [g.name, withWindow(core, core.devices.group(g.name))])),
    devices: new Map(doc.devices.map((d) => [d.id, core.devices.get(d.id)])),
  };
  // Passwords are hashed here (legacy scrypt hashes compared in parallel on the thread pool); the transaction below only writes.
  const devices = await Promise.all(doc.devices.map((d, i) => core.devices.prepareCredentials({ ...d, pins: devPins[i]!.now })));
  core.store.transaction(() => {
    for (const [i, { g, now, window }] of groups.entries())
      context(`${path}: groups[${i}] (${g.name})`, () => {
        core.devices.upsertGroup({ name: g.name, vars: g.vars, pins: now, release: g.release });
        core.windows.setGroupWindow(g.name, window);
      });
    for (const [i, d] of devices.entries()) context(`${path}: devices[${i}] (${d.id})`, () => core.devices.upsert(d));
  });
  const added: ApplyResult['artifacts'] = [];
  for (const [i, { entry: a, file, sha256 }] of artifacts.entries()) {
    const same = sameArtifact(core, a, sha256);
    if (same) {
      known.set(i, same.id);
      added.push({ file: a.file, id: same.id, result: 'unchanged' });
      continue;
    }
    // The catalog returns the artifact already holding these bytes in this slot (existing), adding nothing.
    const { artifact, existing, warning } = await addArtifact(
      core,
      { path: file },
      {
        kind: a.kind,
        profile: a.profile,
        version: a.version,
        serial: a.serial ?? null,
        models: a.models,
        role: a.role ?? '',
        deviceId: a.device ?? null,
        filename: a.name ?? basename(file),
        origin: 'apply',
      },
      who,
    );
    known.set(i, artifact.id);
    added.push({ file: a.file, id: artifact.id, result: existing ? 'unchanged' : 'created', ...(warning ? { warning } : {}) });
  }
  // The pins that waited for their artifact.
  const ids = (later: Record<string, number>): Record<string, number> =>
    Object.fromEntries(Object.entries(later).map(([slot, i]) => [slot, known.get(i)!]));
  core.store.transaction(() => {
    for (const [i, { g, now, later }] of groups.entries()) {
      if (Object.keys(later).length > 0)
        context(`${path}: groups[${i}] (${g.name})`, () =>
          core.devices.upsertGroup({ name: g.name, vars: g.vars, pins: { ...now, ...ids(later) }, release: g.release }),
        );
    }
    for (const [i, d] of doc.devices.entries()) {
      const later = devPins[i]!.later;
      if (Object.keys(later).length > 0)
        context(`${path}: devices[${i}] (${d.id})`, () => core.devices.upsert({ id: d.id, pins: ids(later) }));
    }
  });

  const outcome = <T>(prev: T | undefined, now: T | undefined, strip: (x: T) => unknown): ApplyOutcome =>
    !prev ? 'created' : stableJson(strip(prev)) === stableJson(strip(now!)) ? 'unchanged' : 'updated';
  const result: ApplyResult = {
    file: path,
    groups: doc.groups.map((g) => ({
      name: g.name,
      result: outcome(before.groups.get(g.name), withWindow(core, core.devices.group(g.name)), (x) => x),
    })),
    devices: doc.devices.map((d) => ({
      id: d.id,
      result: outcome(before.devices.get(d.id), core.devices.get(d.id), (x) => ({ ...x, createdAt: '', updatedAt: '' })),
    })),
    artifacts: added,
    created: 0,
    updated: 0,
    unchanged: 0,
  };
  for (const o of [...result.groups, ...result.devices, ...result.artifacts]) result[o.result]++;
  for (const g of doc.groups) {
    const now = core.devices.group(g.name);
    // Compared with its window, as `before` was read: a window change is a group change too.
    if (now) recordGroupChange(core.audit, who, before.groups.get(g.name), withWindow(core, now)!);
  }
  for (const d of doc.devices) {
    const now = core.devices.get(d.id);
    if (now) recordDeviceChange(core.audit, who, before.devices.get(d.id), now);
  }
  return result;
}

/** What a pin check needs of an artifact an entry describes, before the catalog has it. */
function pseudoArtifact(a: ArtifactEntry): ArtifactRecord {
  return {
    id: 0,
    kind: a.kind,
    profile: a.profile,
    models: a.models,
    role: a.role ?? '',
    deviceId: a.device ?? null,
    version: a.version ?? '',
    serial: a.serial ?? null,
    filename: a.name ?? basename(a.file),
    size: 0,
    md5: '',
    sha256: '',
    origin: 'apply',
    addedAt: '',
  };
}

/** JSON with object keys sorted, so two records compare equal whatever order their keys came in. */
/** A group as apply compares it: its record and its window. */
function withWindow(core: Core, g: GroupRecord | undefined): (GroupRecord & { window: unknown }) | undefined {
  return g && { ...g, window: core.windows.groupWindowOf(g.name) ?? null };
}

function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}

/** The catalog's artifact with these bytes in this slot, for this device, at this version: applied before. */
function sameArtifact(core: Core, a: ArtifactEntry, sha256: string): ArtifactRecord | undefined {
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
        const r = await applyFile(core, file, cliActor());
        if (o.json) return console.log(JSON.stringify(r, null, 2));
        for (const g of r.groups) console.log(`group ${g.name}: ${g.result}`);
        for (const d of r.devices) console.log(`device ${d.id}: ${d.result}`);
        for (const a of r.artifacts) console.log(`artifact ${a.id} (${a.file}): ${a.result}${a.warning ? `; warning: ${a.warning}` : ''}`);
        console.log(`applied ${file}: ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`);
      });
    });
}
