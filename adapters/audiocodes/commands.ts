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
import { decodeIni, type IniEncoding } from './ini-encoding.ts';

const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The file's bytes and text: UTF-8, or latin-1 when it is not valid UTF-8 (a gateway export may be). */
function readIni(file: string): { bytes: Buffer; encoding: IniEncoding; imported: ImportedIni } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new ApsError('bad_request', `cannot read ${file}`);
  }
  const { text, encoding } = decodeIni(bytes);
  try {
    return { bytes, encoding, imported: importIni(text) };
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
    .argument('<file>', "an AudioCodes ini file (e.g. the gateway's own export)")
    .option('--profile <name>', 'write profiles/<name>.yaml and profiles/templates/<name>.ini.hbs from it')
    .option('--model <model>', 'a model the profile covers (repeatable)', collect)
    .option('--device <id>', "add it as this device's own config (its ini source)")
    .option('--force', 'overwrite an existing profile or template')
    .description('import an existing AudioCodes ini as a profile template or a device config, tables and comments kept')
    .action(async (file: string, o: { profile?: string; model?: string[]; device?: string; force?: boolean }, c: Command) => {
      if (!o.profile === !o.device) throw new ApsError('bad_request', 'give exactly one of --profile NAME or --device ID');
      const { bytes, encoding, imported } = readIni(file);
      const latin1 = encoding === 'latin1' ? '; read as latin-1 (not valid UTF-8), served as latin-1' : '';
      if (o.profile) {
        if (!PROFILE_NAME.test(o.profile))
          throw new ApsError('bad_request', `profile name "${o.profile}": use lower-case letters, digits, ".", "_" or "-"`);
        const dir = commandConfig(c).profilesDir;
        const templateFile = `templates/${o.profile}.ini.hbs`;
        const yamlPath = join(dir, `${o.profile}.yaml`);
        const templatePath = join(dir, templateFile);
        for (const p of [yamlPath, templatePath]) {
          if (existsSync(p) && !o.force) throw new ApsError('conflict', `${p} exists; add --force to replace it`);
        }
        // Template first: a profile YAML never points at a template that is not there yet.
        writeFileAtomic(templatePath, imported.template);
        writeFileAtomic(
          yamlPath,
          importedProfileYaml({
            name: o.profile,
            source: basename(file),
            templateFile,
            models: o.model ?? [],
            board: imported.board,
            encoding,
          }),
        );
        // Load it back the way the server will, so a problem shows now, not at start-up.
        loadProfile(yamlPath, (a) => adapters.find((x) => x.name === a)?.profileSchema);
        console.log(`profile ${o.profile}: ${yamlPath} and ${templatePath} (${summary(imported)}${latin1})`);
        return;
      }
      await withCore(c, adapters, async (core) => {
        const d = core.devices.get(o.device!);
        if (!d) throw new ApsError('not_found', `no device ${o.device}`);
        if (core.adapterOf(d.profile).name !== 'audiocodes')
          throw new ApsError('bad_request', `device ${d.id} is not an AudioCodes device`);
        // The file's own bytes: served in the encoding it came in.
        const a = await core.catalog.addBuffer(bytes, {
          kind: 'config',
          profile: d.profile,
          deviceId: d.id,
          filename: `${d.mac ?? 'config'}.ini`,
          origin: 'import',
        });
        console.log(`device ${d.id}: config artifact ${a.id} from ${basename(file)} (${summary(imported)}${latin1})`);
      });
    });
}
