import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { ARTIFACT_KINDS, type ArtifactKind } from '../store/types.ts';

// The `sources` section of aps.yaml. Kept here rather than in config.ts so the core config stays short;
// objects are strict like the rest of the schema, so a misspelt key fails start-up naming the key.

const common = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'letters, digits, "_" or "-", at most 32'),
  path: z.string().min(1),
  profile: z.string().min(1),
  kind: z.enum(ARTIFACT_KINDS as readonly [ArtifactKind, ...ArtifactKind[]]),
  role: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'lower-case letters, digits or "-"')
    .optional(),
  models: z.array(z.string().min(1)).optional(),
  /** node-cron expression (5 fields, or 6 with seconds first); no schedule = only `aps sync`. */
  schedule: z
    .string()
    .refine((s) => validCron(s), { message: 'not a valid cron expression' })
    .optional(),
};

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
    /** Remote files larger than this are skipped with a log line: a bound on disk and time per run. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024 * 1024),
  })
  .strict()
  .refine((s) => s.password !== undefined || s.privateKeyFile !== undefined, {
    message: 'an sftp source needs password or privateKeyFile',
    path: ['password'],
  });

export const folderSourceSchema = z.object({ ...common, type: z.literal('folder') }).strict();

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
