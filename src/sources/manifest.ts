import { parse } from 'yaml';
import { z } from 'zod';
import { ApsError } from '../errors.ts';
import { kindSchema, roleSchema, type MappedTarget, type MappingDefaults } from './mapping.ts';

// A manifest published next to the files (YAML or JSON, which YAML reads too): what each file is and its
// checksums. Its entries win over pattern rules; one file listed twice (two profiles) becomes two artifacts.

/** A manifest larger than this is refused: it is read whole, every run. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

const entrySchema = z
  .object({
    file: z.string().regex(/^[^/\\]+$/, 'a file name in the source folder, without a path'),
    profile: z.string().min(1).optional(),
    kind: kindSchema.optional(),
    role: roleSchema.optional(),
    models: z.array(z.string().min(1)).min(1).optional(),
    version: z.union([z.string().min(1), z.number().transform(String)]).optional(),
    serial: z.number().int().min(0).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
      .transform((s) => s.toLowerCase())
      .optional(),
    md5: z
      .string()
      .regex(/^[0-9a-fA-F]{32}$/, '32 hex digits')
      .transform((s) => s.toLowerCase())
      .optional(),
  })
  .strict();

// Two forms: a bare list of entries, or `files:` holding it (the documented one, room for more keys later).
const listSchema = z.array(entrySchema);
const objectSchema = z.object({ files: listSchema }).strict();

export type ManifestEntry = z.infer<typeof entrySchema>;

/** Published checksums of one file (from the manifest, a sidecar, or both). */
export interface Published {
  sha256?: string;
  md5?: string;
}

export interface Manifest {
  /** The manifest's own file name (never an artifact). */
  name: string;
  entries: Map<string, ManifestEntry[]>;
}

/** Parses a manifest; every problem is an error naming the manifest and the entry. */
export function parseManifest(name: string, bytes: Buffer, defaults: MappingDefaults): Manifest {
  let doc: unknown;
  try {
    doc = parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ApsError('bad_request', `manifest ${name}: not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(doc);
  const r = list ? listSchema.safeParse(doc) : objectSchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = list ? ['files', ...issue.path] : issue.path;
    throw new ApsError('bad_request', `manifest ${name}: ${path.join('.') || '(root)'}: ${issue.message}`);
  }
  const entries = new Map<string, ManifestEntry[]>();
  (Array.isArray(r.data) ? r.data : r.data.files).forEach((e, i) => {
    if (!(e.profile ?? defaults.profile))
      throw new ApsError('bad_request', `manifest ${name}: files.${i}: no profile (and the source has none)`);
    if (!(e.kind ?? defaults.kind)) throw new ApsError('bad_request', `manifest ${name}: files.${i}: no kind (and the source has none)`);
    const list = entries.get(e.file) ?? [];
    const other = list.find((x) => (x.sha256 && e.sha256 && x.sha256 !== e.sha256) || (x.md5 && e.md5 && x.md5 !== e.md5));
    if (other) throw new ApsError('bad_request', `manifest ${name}: files.${i}: ${e.file} is listed twice with different checksums`);
    entries.set(e.file, [...list, e]);
  });
  return { name, entries };
}

/** The targets a manifest gives a file (its entries, with the source's defaults filled in). */
export function manifestTargets(entries: readonly ManifestEntry[], defaults: MappingDefaults): MappedTarget[] {
  return entries.map((e) => {
    const role = e.role ?? defaults.role;
    const models = e.models ?? defaults.models;
    return {
      profile: (e.profile ?? defaults.profile)!,
      kind: (e.kind ?? defaults.kind)!,
      ...(role ? { role } : {}),
      ...(models ? { models } : {}),
      ...(e.version !== undefined ? { version: e.version } : {}),
      ...(e.serial !== undefined ? { serial: e.serial } : {}),
    };
  });
}

/** The checksums a manifest publishes for a file (entries of one file agree: parseManifest checked). */
export function manifestChecksums(entries: readonly ManifestEntry[]): Published {
  const sha256 = entries.find((e) => e.sha256)?.sha256;
  const md5 = entries.find((e) => e.md5)?.md5;
  return { ...(sha256 ? { sha256 } : {}), ...(md5 ? { md5 } : {}) };
}
