// Importing a site's existing 46xxsettings.txt (like fixtures/samples/*) as the starting parameters of a
// profile or a group. The file is interpreted as a phone of the given model and GROUP would read it
// (script.ts; its GETs are not followed), so IF $MODEL4 / $GROUP sections resolve as on that phone; what
// it SETs becomes upper-case variables, which APS writes back as SET lines at the same level.
import { ApsError } from '../../src/adapter-api.ts';
import { runScript } from './script.ts';
import { isAvayaParameter, parseLine, valueProblem } from './script-lang.ts';

export interface ImportedSettings {
  vars: Record<string, string>;
  /** Parameters left out, each with its reason (names only, never values). */
  skipped: string[];
  /** IF lines in the file: when there are any, the result depends on the model and group given. */
  conditionals: number;
  /** Files the settings GET (not followed). */
  gets: string[];
}

export async function importSettings(text: string, phone: { model?: string; group?: number }): Promise<ImportedSettings> {
  const lines = text.split(/\r\n|\r|\n/).map(parseLine);
  const conditionals = lines.filter((l) => l.kind === 'if').length;
  const run = await runScript(text, {
    phone: {
      ...(phone.model ? { MODEL4: phone.model.slice(0, 4), MODEL: phone.model } : {}),
      GROUP: String(phone.group ?? 0),
      SIG_IN_USE: 'SIP',
    },
    load: async () => null,
  });
  if (run.stopped) throw new ApsError('bad_request', `the file cannot be read as a phone reads it: ${run.stopped}`);
  const vars: Record<string, string> = {};
  const skipped: string[] = [];
  for (const [name, value] of Object.entries(run.settings)) {
    const problem = valueProblem(value);
    if (!isAvayaParameter(name)) skipped.push(`${name}: not an Avaya parameter name`);
    else if (problem) skipped.push(`${name}: value ${problem}`);
    else vars[name] = value;
  }
  return { vars, skipped, conditionals, gets: run.gets.map((g) => g.file) };
}

/** The profile YAML for imported parameters. */
export function importedProfileYaml(o: {
  name: string;
  source: string;
  models: string[];
  script: string;
  vars: Record<string, string>;
}): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    `# Imported by "aps avaya import-settings" from ${q(o.source)}: its parameters as this profile's variables`,
    '# (upper-case variables are written back as SET lines in 46xxsettings.txt). See adapters/avaya/README.md.',
    'adapter: avaya',
    `description: ${q(`Avaya deskphones configured from ${o.source}`)}`,
    `models: [${o.models.map(q).join(', ')}]`,
    'vars:',
    ...Object.keys(o.vars)
      .sort()
      .map((k) => `  ${k}: ${q(o.vars[k]!)}`),
    'settings:',
    `  upgradeScripts: [${q(o.script)}]`,
    '',
  ].join('\n');
}
