import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { groupNames, kindSchema, mappingRuleSchema, roleSchema } from './mapping.ts';
import { rolloutSchema } from './rollout-hook.ts';

// The `sources` section of aps.yaml. Kept here rather than in config.ts so the core config stays short;
// objects are strict like the rest of the schema, so a misspelt key fails start-up naming the key.

const common = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'letters, digits, "_" or "-", at most 32'),
  path: z.string().min(1),
  /** Without `map` or `manifest`: every file goes to this profile and kind. With them: the defaults they inherit. */
  profile: z.string().min(1).optional(),
  kind: kindSchema.optional(),
  role: roleSchema.optional(),
  models: z.array(z.string().min(1)).optional(),
  /** Pattern rules, tried in order after the manifest; a file neither maps is reported as unmapped. */
  map: z.array(mappingRuleSchema).min(1).optional(),
  /** A YAML or JSON file in the source folder saying what each file is, with its checksums. */
  manifest: z
    .string()
    .regex(/^[^/\\]+$/, 'a file name in the source folder, without a path')
    .optional(),
  /** `verify`: check the checksums the mirror publishes (manifest, .sha256/.md5 sidecars); `require`: refuse a file without one. */
  checksums: z.enum(['verify', 'require']).default('verify'),
  /** Retire this source's artifacts whose file left the upstream folder, unless they are someone's target. */
  prune: z.boolean().default(false),
  /** Each artifact a run adds starts a staged rollout with these settings. */
  rollout: rolloutSchema.optional(),
  /** node-cron expression (5 fields, or 6 with seconds first); no schedule = only `aps sync`. */
  schedule: z
    .string()
    .refine((s) => validCron(s), { message: 'not a valid cron expression' })
    .optional(),
  /** Upstream files larger than this are skipped with a log line: a bound on disk and time per run. */
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024 * 1024),
};

/** Checks what needs the whole source: a profile and kind for every file some rule or the manifest can map. */
function checkMapping(
  s: { profile?: string; kind?: string; map?: Array<{ pattern: string; profile?: string; kind?: string }>; manifest?: string },
  ctx: z.RefinementCtx,
): void {
  if (!s.map && !s.manifest) {
    if (!s.profile)
      ctx.addIssue({ code: 'custom', path: ['profile'], message: 'a source needs a profile, or mapping rules (map) or a manifest' });
    if (!s.kind) ctx.addIssue({ code: 'custom', path: ['kind'], message: 'a source needs a kind, or mapping rules (map) or a manifest' });
    return;
  }
  s.map?.forEach((r, i) => {
    let groups: string[];
    try {
      groups = groupNames(r.pattern);
    } catch {
      return; // reported by the rule's own schema
    }
    for (const key of ['profile', 'kind'] as const) {
      if (r[key] === undefined && s[key] === undefined && !groups.includes(key))
        ctx.addIssue({
          code: 'custom',
          path: ['map', i],
          message: `no ${key}: give the rule a ${key} key or a (?<${key}>…) group, or the source a ${key}`,
        });
    }
  });
}

/** An OpenSSH SHA-256 fingerprint as `ssh-keygen -l` prints it; the `SHA256:` prefix and padding are optional. */
const FINGERPRINT = /^(?:SHA256:)?[A-Za-z0-9+/]{43}=?$/;

export const sftpSourceSchema = z
  .object({
    ...common,
    type: z.literal('sftp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    privateKeyFile: z.string().min(1).optional(),
    hostKeySha256: z.string().regex(FINGERPRINT, 'an OpenSSH SHA256 fingerprint, e.g. SHA256:abc…').optional(),
  })
  .strict()
  .refine((s) => s.password !== undefined || s.privateKeyFile !== undefined, {
    message: 'an sftp source needs password or privateKeyFile',
    path: ['password'],
  })
  .superRefine(checkMapping);

export const folderSourceSchema = z
  .object({ ...common, type: z.literal('folder') })
  .strict()
  .superRefine(checkMapping);

export const sourcesSchema = z
  .array(z.discriminatedUnion('type', [sftpSourceSchema, folderSourceSchema]))
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate source name "${s.name}"` });
      seen.add(s.name);
    });
  })
  .default([]);

export type SftpSourceConfig = z.infer<typeof sftpSourceSchema>;
export type FolderSourceConfig = z.infer<typeof folderSourceSchema>;
export type SourceConfig = SftpSourceConfig | FolderSourceConfig;
