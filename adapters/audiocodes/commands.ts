// `aps audiocodes import-ini FILE (--profile NAME | --device ID)`: a site's existing ini becomes a profile
// template (profile YAML + template, written atomically, never over existing files without --force) or a
// device's own config artifact (served as its ini source, APS's Automatic Update parameters on top).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { ApsError, type AdapterCli } from '../../src/adapter-api.ts';
import { IniError } from './ini-doc.ts';
import { importedProfileYaml, importIni, type ImportedIni } from './import-ini.ts';
import { decodeIni, type IniEncoding } from './ini-encoding.ts';

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

type ImportIniOptions = { profile?: string; model?: string[]; device?: string; force?: boolean; json?: boolean };

function counts(i: ImportedIni): { params: number; tables: number; rows: number } {
  return { params: i.params, tables: i.tables, rows: i.rows };
}

function summary(i: ImportedIni): string {
  return `${i.params} parameters, ${i.tables} tables, ${i.rows} table rows`;
}

export function audiocodesCommands(cmd: Command, cli: AdapterCli): void {
  cmd
    .command('import-ini')
    .argument('<file>', "an AudioCodes ini file (e.g. the gateway's own export)")
    .option('--profile <name>', 'write profiles/<name>.yaml and profiles/templates/<name>.ini.hbs from it')
    .option('--model <model>', 'a model the profile covers (repeatable)', cli.collect)
    .option('--device <id>', "add it as this device's own config (its ini source)")
    .option('--force', 'overwrite an existing profile or template')
    .option('--json', 'print what was written as JSON')
    .description('import an existing AudioCodes ini as a profile template or a device config, tables and comments kept')
    .action(async (file: string, o: ImportIniOptions, c: Command) => {
      if (!o.profile === !o.device) throw new ApsError('bad_request', 'give exactly one of --profile NAME or --device ID');
      const { bytes, encoding, imported } = readIni(file);
      const latin1 = encoding === 'latin1' ? '; read as latin-1 (not valid UTF-8), served as latin-1' : '';
      if (o.profile) {
        const templateFile = `${o.profile}.ini.hbs`;
        const { yamlPath, templatePath } = cli.writeProfile(c, {
          name: o.profile,
          yaml: importedProfileYaml({
            name: o.profile,
            source: basename(file),
            templateFile: `templates/${templateFile}`,
            models: o.model ?? [],
            board: imported.board,
            encoding,
          }),
          template: { file: templateFile, text: imported.template },
          force: o.force,
        });
        if (o.json)
          console.log(JSON.stringify({ profile: o.profile, yaml: yamlPath, template: templatePath, ...counts(imported), encoding }));
        else console.log(`profile ${o.profile}: ${yamlPath} and ${templatePath} (${summary(imported)}${latin1})`);
        return;
      }
      await cli.withServices(c, async (core) => {
        // The services hold only AudioCodes devices: another family's device id is simply not found here.
        const d = core.devices.get(o.device!);
        if (!d) throw new ApsError('not_found', `no AudioCodes device ${o.device}`);
        // The file's own bytes: served in the encoding it came in.
        const a = await core.catalog.addBuffer(bytes, {
          kind: 'config',
          profile: d.profile,
          deviceId: d.id,
          filename: `${d.mac ?? 'config'}.ini`,
          origin: 'import',
        });
        if (o.json) console.log(JSON.stringify({ device: d.id, artifact: a, ...counts(imported), encoding }, null, 2));
        else console.log(`device ${d.id}: config artifact ${a.id} from ${basename(file)} (${summary(imported)}${latin1})`);
      });
    });
}
