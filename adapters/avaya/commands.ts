// `aps avaya import-settings FILE (--profile NAME --model M… | --group NAME --out FILE)`: a site's
// 46xxsettings.txt as the starting parameters of a new profile (profiles/NAME.yaml, written and validated by
// the core, never over an existing file without --force) or of a group (an `aps apply` file holding the
// group with its variables and the imported parameters: the operator reviews it, then applies it).
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ApsError, isSecretVar, writeSimulatorFile, type AdapterCli } from '../../src/adapter-api.ts';
import { importedProfileYaml, importSettings, type ImportedSettings } from './import-settings.ts';
import { VARS } from './settings.ts';
import { scriptFor } from './simulator.ts';

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

/** What `--json` prints about the import (the text report says the same in words). */
function facts(i: ImportedSettings): Record<string, unknown> {
  return {
    parameters: Object.keys(i.vars).length,
    notFollowed: i.gets,
    conditionals: i.conditionals,
    skipped: i.skipped,
    secrets: Object.keys(i.vars).filter(isSecretVar),
  };
}

interface Options {
  profile?: string;
  group?: string;
  out?: string;
  model?: string[];
  groupNumber?: string;
  script?: string;
  force?: boolean;
  json?: boolean;
}

export function avayaCommands(cmd: Command, cli: AdapterCli): void {
  cmd
    .command('import-settings')
    .argument('<file>', "a site's 46xxsettings.txt")
    .option('--profile <name>', 'write profiles/<name>.yaml with the parameters as its variables')
    .option('--group <name>', 'write an `aps apply` file (--out) giving this group the parameters')
    .option('--out <file>', 'with --group: the apply file to write')
    .option('--model <model>', 'a model the profile covers (repeatable); the first resolves IF $MODEL4 sections', cli.collect)
    .option('--group-number <n>', 'the GROUP value that resolves IF $GROUP sections (and, with --group, the group gets it)')
    .option('--script <name>', "the profile's upgrade script (default: by the first model's family)")
    .option('--force', 'overwrite an existing profile or --out file')
    .option('--json', 'print what was written as JSON')
    .description("import an existing 46xxsettings.txt as a profile's or a group's starting parameters")
    .action(async (file: string, o: Options, c: Command) => {
      if (!o.profile === !o.group) throw new ApsError('bad_request', 'give exactly one of --profile NAME or --group NAME');
      const number = o.groupNumber === undefined ? 0 : Number(o.groupNumber);
      if (!Number.isInteger(number) || number < 0 || number > 999) throw new ApsError('bad_request', '--group-number must be 0-999');
      const model = o.model?.[0];
      const imported = await importSettings(readText(file), { model, group: number });
      if (o.profile) {
        const { yamlPath } = cli.writeProfile(c, {
          name: o.profile,
          yaml: importedProfileYaml({
            name: o.profile,
            source: basename(file),
            models: o.model ?? [],
            script: o.script ?? (model ? scriptFor(model) : '16xxupgrade.txt'),
            vars: imported.vars,
          }),
          force: o.force,
        });
        if (o.json) return console.log(JSON.stringify({ profile: o.profile, yaml: yamlPath, ...facts(imported) }, null, 2));
        console.log(`profile ${o.profile}: ${yamlPath}`);
        report(imported, model, number);
        return;
      }
      if (!o.out) throw new ApsError('bad_request', '--group needs --out FILE (the file for `aps apply`)');
      let existing: Record<string, string> = {};
      await cli.withServices(c, (s) => {
        existing = s.devices.group(o.group!)?.vars ?? {};
      });
      // `aps apply` replaces a group's variables: the file carries the ones it has, but never a secret in clear.
      const secret = Object.keys(existing).filter((k) => isSecretVar(k) && existing[k] !== '');
      if (secret.length > 0) {
        throw new ApsError(
          'conflict',
          `group ${o.group} has secret variables (${secret.join(', ')}) that an apply file would have to carry in clear; import into another group`,
        );
      }
      const vars = { ...existing, ...imported.vars, ...(o.groupNumber !== undefined ? { [VARS.groupNumber]: String(number) } : {}) };
      const doc = stringify({ groups: [{ name: o.group, vars }] });
      if (existsSync(o.out) && !o.force) throw new ApsError('conflict', `${o.out} exists; add --force to replace it`);
      writeSimulatorFile(
        o.out,
        `# Written by "aps avaya import-settings" from ${JSON.stringify(basename(file))}; apply with: aps apply ${o.out}\n${doc}`,
      );
      if (o.json) return console.log(JSON.stringify({ group: o.group, out: o.out, ...facts(imported) }, null, 2));
      console.log(`group ${o.group}: ${o.out} (apply it with aps apply ${o.out})`);
      report(imported, model, number);
    });
}
