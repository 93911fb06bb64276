import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Adapter } from '../adapter.ts';
import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';
import { withCore } from './context.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const applySchema = z
  .object({
    groups: z
      .array(z.object({ name: z.string(), vars: z.record(z.string(), scalar).default({}), pins: z.record(z.string(), z.number().int()).default({}) }).strict())
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

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Idempotent upsert from one file: groups, then devices (so per-device artifacts find their device),
 * then artifacts; an artifact whose bytes and slot are already in the catalog is kept, not added again.
 */
export async function applyFile(core: Core, path: string): Promise<ApplySummary> {
  let doc: ApplyFile;
  try {
    const r = applySchema.safeParse(parseYaml(readFileSync(path, 'utf8')) ?? {});
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new ApsError('bad_request', `${path}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    }
    doc = r.data;
  } catch (e) {
    if (e instanceof ApsError) throw e;
    throw new ApsError('bad_request', `${path}: ${(e as Error).message}`);
  }
  const summary: ApplySummary = { groups: 0, devices: 0, artifactsAdded: 0, artifactsKept: 0 };
  for (const g of doc.groups) {
    core.devices.upsertGroup(g);
    summary.groups++;
  }
  for (const d of doc.devices) {
    core.devices.upsert({ ...d, vars: d.vars, pins: d.pins });
    summary.devices++;
  }
  const base = dirname(resolve(path));
  for (const a of doc.artifacts) {
    const file = resolve(base, a.file);
    const sha = await sha256Of(file).catch(() => {
      throw new ApsError('bad_request', `${path}: artifact file ${a.file} cannot be read`);
    });
    const role = a.role ?? '';
    const same = core.catalog
      .list(a.profile)
      .find((x) => x.sha256 === sha && x.kind === a.kind && x.role === role && x.deviceId === (a.device ?? null) && x.version === (a.version ?? ''));
    if (same) {
      summary.artifactsKept++;
      continue;
    }
    await core.catalog.addFile(file, {
      kind: a.kind,
      profile: core.profiles.require(a.profile).name,
      version: a.version,
      serial: a.serial ?? null,
      models: a.models,
      role,
      deviceId: a.device ?? null,
      filename: a.name ?? basename(file),
      origin: 'apply',
    });
    summary.artifactsAdded++;
  }
  return summary;
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
        else console.log(`applied ${file}: ${s.groups} groups, ${s.devices} devices, ${s.artifactsAdded} artifacts added, ${s.artifactsKept} unchanged`);
      });
    });
}
