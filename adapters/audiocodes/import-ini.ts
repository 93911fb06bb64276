// Importing an ini a site already has (e.g. a gateway's own export, fixtures/MP124_6.60A_export.ini) as a
// profile template or a device's config. Lossless: the text is kept as it is, checked with the same
// parser the renderer uses (every table must parse), and escaped so Handlebars gives back the same bytes.
import { parseIni, type IniDoc } from './ini-doc.ts';

/**
 * Escapes Handlebars-significant text so the template renders to exactly `text`. `\{{` is a literal `{{`
 * in Handlebars; a run of backslashes before `{{` is closed off with an empty comment first (`\\{{!}}`
 * is a literal backslash and nothing), so the run survives too. import-ini.test.ts checks this on
 * random strings.
 */
export function escapeHandlebars(text: string): string {
  return text.replace(/(\\*)\{\{/g, (_m, run: string) => (run ? `${run}\\{{!}}\\{{` : '\\{{'));
}

export interface ImportedIni {
  doc: IniDoc;
  /** The template source: the file's text, escaped for Handlebars. */
  template: string;
  /** Counts for the operator's summary. */
  params: number;
  tables: number;
  rows: number;
  /** The board named in an export's header comment (`;Board: MP-124E FXS`), when present. */
  board: string | null;
}

/** Parses (throws IniError naming the line) and prepares the text for a profile template. */
export function importIni(text: string): ImportedIni {
  const doc = parseIni(text);
  let params = 0;
  let tables = 0;
  let rows = 0;
  for (const item of doc.items) {
    if (item.kind === 'param') params++;
    if (item.kind === 'table') {
      tables++;
      rows += item.body.filter((l) => l.kind === 'row').length;
    }
  }
  const board = /^;\s*Board:\s*(.+?)\s*$/m.exec(text)?.[1] ?? null;
  return { doc, template: escapeHandlebars(text), params, tables, rows, board };
}

/** The profile YAML for an imported template. */
export function importedProfileYaml(o: {
  name: string;
  source: string;
  templateFile: string;
  models: string[];
  board: string | null;
  encoding?: 'utf8' | 'latin1';
}): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    `# Imported by "aps audiocodes import-ini" from ${q(o.source)}${o.board ? ` (board: ${o.board})` : ''}.`,
    '# The template is that ini, escaped for Handlebars; add {{vars.NAME}} where a value differs per device.',
    'adapter: audiocodes',
    `description: ${q(`AudioCodes gateways configured from ${o.source}`)}`,
    `models: [${o.models.map(q).join(', ')}]`,
    `template: ${q(o.templateFile)}`,
    'settings:',
    '  updateFrequencyMinutes: 60',
    '  checkIfIniChanged: 1',
    // The template file is UTF-8 text; the ini is served in the bytes the export came in.
    ...(o.encoding === 'latin1' ? ['  iniEncoding: latin1'] : []),
    '',
  ].join('\n');
}
