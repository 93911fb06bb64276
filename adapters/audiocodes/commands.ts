// `aps audiocodes import-ini FILE (--profile NAME | --device ID)`: a site's existing ini becomes a profile
// template (profile YAML + template, written atomically, never over existing files without --force) or a
// device's own config artifact (served as its ini source, APS's Automatic Update parameters on top).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import type { Adapter } from '../../src/adapter.ts';
import { collect, commandConfig, withCore } from '../../src/cli/context.ts';
import { ApsError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/fs-atomic.ts';
import { loadProfile } from '../../src/profiles/profiles.ts';
import { IniError } from './ini-doc.ts';
import { importedProfileYaml, importIni, type ImportedIni } from './import-ini.ts';

const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function readIni(file: string): { text: string; imported: ImportedIni } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ApsError('bad_request', `cannot read ${file}`);
  }
  try {
    return { text, imported: importIni(text) };
  } catch (e) {
    if (e instanceof IniError) throw new ApsError('bad_request', `${file}: ${e.message}`);
    throw e;
  }
}

function summary(i: ImportedIni): string {
  return `${i.params} parameters, ${i.tables} tables, ${i.rows} table rows`;
}

export function audiocodesCommands(cmd: Command, adapters: readonly Adapter[]): void {
  cmd
    .command('import-ini')
    .argument('<file>', 'an AudioCodes ini file (e.g. the gateway\'s own export)')
    .option('--profile <name>', 'write profiles/<name>.yaml and profiles/templates/<name>.ini.hbs from it')
    .option('--model <model>', 'a model the profile covers (repeatable)', collect)
    .option('--device <id>', 'add it as this device\'s own config (its ini source)')
    .option('--force', 'overwrite an existing profile or template')
    .description('import an existing AudioCodes ini as a profile template or a device config, tables and comments kept')
    .action(async (file: string, o: { profile?: string; model?: string[]; device?: string; force?: boolean }, c: Command) => {
      if (!o.profile === !o.device) throw new ApsError('bad_request', 'give exactly one of --profile NAME or --device ID');
      const { text, imported } = readIni(file);
      if (o.profile) {
        if (!PROFILE_NAME.test(o.profile)) throw new ApsError('bad_request', `profile name "${o.profile}": use lower-case letters, digits, ".", "_" or "-"`);
        const dir = commandConfig(c).profilesDir;
        const templateFile = `templates/${o.profile}.ini.hbs`;
        const yamlPath = join(dir, `${o.profile}.yaml`);
        const templatePath = join(dir, templateFile);
        for (const p of [yamlPath, templatePath]) {
          if (existsSync(p) && !o.force) throw new ApsError('conflict', `${p} exists; add --force to replace it`);
        }
        // Template first: a profile YAML never points at a template that is not there yet.
        writeFileAtomic(templatePath, imported.template);
        writeFileAtomic(yamlPath, importedProfileYaml({ name: o.profile, source: basename(file), templateFile, models: o.model ?? [], board: imported.board }));
        // Load it back the way the server will, so a problem shows now, not at start-up.
        loadProfile(yamlPath, (a) => adapters.find((x) => x.name === a)?.profileSchema);
        console.log(`profile ${o.profile}: ${yamlPath} and ${templatePath} (${summary(imported)})`);
        return;
      }
      await withCore(c, adapters, async (core) => {
        const d = core.devices.get(o.device!);
        if (!d) throw new ApsError('not_found', `no device ${o.device}`);
        if (core.adapterOf(d.profile).name !== 'audiocodes') throw new ApsError('bad_request', `device ${d.id} is not an AudioCodes device`);
        const a = await core.catalog.addBuffer(Buffer.from(text, 'utf8'), {
          kind: 'config', profile: d.profile, deviceId: d.id, filename: `${d.mac ?? 'config'}.ini`, origin: 'import',
        });
        console.log(`device ${d.id}: config artifact ${a.id} from ${basename(file)} (${summary(imported)})`);
      });
    });
}
