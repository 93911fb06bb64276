// `aps avaya import-settings FILE (--profile NAME --model M… | --group NAME)`: a site's 46xxsettings.txt as
// the starting parameters of a new profile (profiles/NAME.yaml, never over an existing file without
// --force) or of a group (merged into its variables; the server sees it without a restart).
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  ApsError,
  collect,
  commandConfig,
  isSecretVar,
  loadProfile,
  withCore,
  writeFileAtomic,
  type Adapter,
} from '../../src/adapter-api.ts';
import { NAME } from './files.ts';
import { importedProfileYaml, importSettings, type ImportedSettings } from './import-settings.ts';
import { VARS } from './settings.ts';
import { scriptFor } from './simulator.ts';

const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ApsError('bad_request', `cannot read ${file}`);
  }
}

function report(i: ImportedSettings, model: string | undefined, group: number): void {
  console.log(`${Object.keys(i.vars).length} parameters imported${i.gets.length ? `; GET ${i.gets.join(', ')} not followed` : ''}`);
  if (i.conditionals > 0) {
    console.log(`the file has ${i.conditionals} IF lines: resolved as a ${model ?? 'phone of no model'} in GROUP ${group} reads it`);
  }
  for (const s of i.skipped) console.log(`skipped ${s}`);
  const secrets = Object.keys(i.vars).filter(isSecretVar);
  if (secrets.length) console.log(`secret-looking parameters (${secrets.join(', ')}) are served only in each phone's own file`);
}

export function avayaCommands(cmd: Command, adapters: readonly Adapter[]): void {
  cmd
    .command('import-settings')
    .argument('<file>', "a site's 46xxsettings.txt")
    .option('--profile <name>', 'write profiles/<name>.yaml with the parameters as its variables')
    .option('--group <name>', "merge the parameters into this group's variables (created when missing)")
    .option('--model <model>', 'a model the profile covers (repeatable); the first resolves IF $MODEL4 sections', collect)
    .option('--group-number <n>', 'the GROUP value that resolves IF $GROUP sections (and, with --group, the group gets it)')
    .option('--script <name>', "the profile's upgrade script (default: by the first model's family)")
    .option('--force', 'overwrite an existing profile file')
    .description("import an existing 46xxsettings.txt as a profile's or a group's starting parameters")
    .action(
      async (
        file: string,
        o: { profile?: string; group?: string; model?: string[]; groupNumber?: string; script?: string; force?: boolean },
        c: Command,
      ) => {
        if (!o.profile === !o.group) throw new ApsError('bad_request', 'give exactly one of --profile NAME or --group NAME');
        const number = o.groupNumber === undefined ? 0 : Number(o.groupNumber);
        if (!Number.isInteger(number) || number < 0 || number > 999) throw new ApsError('bad_request', '--group-number must be 0-999');
        const model = o.model?.[0];
        const imported = await importSettings(readText(file), { model, group: number });
        if (o.profile) {
          if (!PROFILE_NAME.test(o.profile))
            throw new ApsError('bad_request', `profile name "${o.profile}": use lower-case letters, digits, ".", "_" or "-"`);
          const path = join(commandConfig(c).profilesDir, `${o.profile}.yaml`);
          if (existsSync(path) && !o.force) throw new ApsError('conflict', `${path} exists; add --force to replace it`);
          const yaml = importedProfileYaml({
            name: o.profile,
            source: basename(file),
            models: o.model ?? [],
            script: o.script ?? (model ? scriptFor(model) : '16xxupgrade.txt'),
            vars: imported.vars,
          });
          writeFileAtomic(path, yaml);
          // Load it back the way the server will, so a problem shows now, not at start-up.
          loadProfile(path, (a) => adapters.find((x) => x.name === a)?.profileSchema);
          console.log(`profile ${o.profile}: ${path}`);
          report(imported, model, number);
          return;
        }
        await withCore(c, adapters, async (core) => {
          const g = core.devices.group(o.group!);
          const vars = {
            ...(g?.vars ?? {}),
            ...imported.vars,
            ...(o.groupNumber !== undefined ? { [VARS.groupNumber]: String(number) } : {}),
          };
          core.devices.upsertGroup({ name: o.group!, vars, pins: g?.pins ?? {} });
          console.log(`group ${o.group}: ${NAME} parameters merged into its variables`);
          report(imported, model, number);
        });
      },
    );
}
