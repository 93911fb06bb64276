// AudioCodes ini document model: the file as an ordered list of items, so a template round-trips with its
// comments, sections and tables where the author put them. Syntax: protocols.md §(a) "ini file syntax"
// (MP-11x 6.6 manual §8.1) and the real export fixtures/MP124_6.60A_export.ini.
//
// Why not the `ini` package for parsing: its decode() folds the file into section objects (losing order,
// comments and the `[ \Table ]` end markers), reads `FORMAT X_Index = …;` and table rows as plain keys, and
// its unquoting JSON-parses quoted text (`'208'` becomes the number 208, backslashes become escapes) while
// the device takes quoted text literally. It is used where its rules and the device's agree: as an
// independent reader of the scalar `[… Params]` lines in ini-doc.test.ts, cross-checking this parser.
import { IniError, parseRowValues, parseScalarValue, formatScalar, formatTableField } from './ini-values.ts';
import type { IniValue } from './ini-values.ts';

export type { IniValue, IniValueInput, IniErrorCode } from './ini-values.ts';
export { IniError, toIniValue, valueText } from './ini-values.ts';
export {
  findParam,
  getParam,
  setParam,
  deleteParam,
  findTable,
  ensureTable,
  getTableRows,
  getTableRow,
  upsertTableRow,
  deleteTableRow,
} from './ini-edit.ts';
export type { RowInput } from './ini-edit.ts';

/** A `;` line, kept verbatim (exports put board facts and hidden-parameter notes there). */
export interface CommentItem {
  kind: 'comment';
  text: string;
}
export interface BlankItem {
  kind: 'blank';
}
/** `[SYSTEM Params]`: optional grouping, no meaning to the device beyond readability. */
export interface SectionItem {
  kind: 'section';
  name: string;
}
/** `Name = value`. The name keeps its original spelling; lookups ignore case. */
export interface ParamItem {
  kind: 'param';
  name: string;
  value: IniValue;
}
/** `FORMAT Name_Index = Name_Col1, Name_Col2;` */
export interface FormatLine {
  kind: 'format';
  indexName: string;
  columns: string[];
}
/** `Name <index> = v1, v2;` */
export interface RowLine {
  kind: 'row';
  index: number;
  values: IniValue[];
}
export type TableLine = CommentItem | BlankItem | FormatLine | RowLine;
/** `[ Name ]` … `[ \Name ]`; body keeps the order of FORMAT, rows, comments and blanks inside. */
export interface TableItem {
  kind: 'table';
  name: string;
  body: TableLine[];
}
export type IniItem = CommentItem | BlankItem | SectionItem | ParamItem | TableItem;
export interface IniDoc {
  items: IniItem[];
}

const NAME = /^[A-Za-z_][\w]*$/;
const BRACKET = /^\s*\[\s*(\\?)\s*([^\]]*?)\s*\]\s*$/;
const PARAM = /^\s*([A-Za-z_][\w.\-[\]]*)\s*=(.*)$/;
const FORMAT = /^\s*FORMAT\s+(\S+?)\s*=(.*)$/i;
const ROW = /^\s*([A-Za-z_]\w*)\s+(\d+)\s*=(.*)$/;

function isSectionName(name: string): boolean {
  return /(^|\s)params$/i.test(name);
}

/** Text after `=` on a FORMAT or row line, which must end with `;`. */
function beforeSemicolon(raw: string, what: string, line: number): string {
  const t = raw.trim();
  if (!t.endsWith(';')) throw new IniError('bad-row', `${what} must end with ';'`, line);
  return t.slice(0, -1);
}

interface OpenTable {
  item: TableItem;
  line: number;
  columns: number | null;
  seen: Set<number>;
}

function parseTableLine(text: string, open: OpenTable, line: number): TableLine {
  const name = open.item.name;
  if (/^\s*$/.test(text)) return { kind: 'blank' };
  if (/^\s*;/.test(text)) return { kind: 'comment', text };
  const f = FORMAT.exec(text);
  if (f) {
    if (open.columns !== null) throw new IniError('syntax', `second FORMAT line in table ${name}`, line);
    const columns = beforeSemicolon(f[2]!, 'FORMAT line', line)
      .split(',')
      .map((c) => c.trim());
    if (columns.some((c) => !NAME.test(c))) throw new IniError('syntax', `bad column name in FORMAT of ${name}`, line);
    open.columns = columns.length;
    return { kind: 'format', indexName: f[1]!, columns };
  }
  const r = ROW.exec(text);
  if (r) {
    if (r[1]!.toLowerCase() !== name.toLowerCase()) {
      throw new IniError('bad-row', `row of ${r[1]} inside table ${name}`, line);
    }
    if (open.columns === null) throw new IniError('bad-row', `row before the FORMAT line of table ${name}`, line);
    const index = Number(r[2]);
    if (open.seen.has(index)) throw new IniError('duplicate-row', `row ${name} ${index} appears twice`, line);
    open.seen.add(index);
    const values = parseRowValues(beforeSemicolon(r[3]!, 'table row', line), line);
    if (values.length !== open.columns) {
      throw new IniError('bad-row', `row ${name} ${index} has ${values.length} values, FORMAT has ${open.columns}`, line);
    }
    return { kind: 'row', index, values };
  }
  throw new IniError('syntax', `line inside table ${name} is not FORMAT, a row, a comment or the table end`, line);
}

/** Parses ini text (CRLF, LF or CR line ends). Throws IniError with the 1-based line number. */
export function parseIni(text: string): IniDoc {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const items: IniItem[] = [];
  const params = new Set<string>();
  const tables = new Set<string>();
  let open: OpenTable | null = null;

  lines.forEach((text, i) => {
    const line = i + 1;
    const b = BRACKET.exec(text);
    if (open) {
      if (b && b[1] === '\\' && b[2]!.toLowerCase() === open.item.name.toLowerCase()) {
        open = null;
        return;
      }
      if (b) {
        throw new IniError(
          'unterminated-table',
          `table ${open.item.name} (opened at line ${open.line}) is not closed before this line`,
          line,
        );
      }
      open.item.body.push(parseTableLine(text, open, line));
      return;
    }
    if (/^\s*$/.test(text)) {
      items.push({ kind: 'blank' });
      return;
    }
    if (/^\s*;/.test(text)) {
      items.push({ kind: 'comment', text });
      return;
    }
    if (b) {
      const name = b[2]!;
      if (b[1] === '\\') throw new IniError('unexpected-table-end', `end of table ${name} with no table open`, line);
      if (isSectionName(name)) {
        items.push({ kind: 'section', name });
        return;
      }
      if (!NAME.test(name)) throw new IniError('syntax', `bad section or table name`, line);
      const key = name.toLowerCase();
      if (tables.has(key)) throw new IniError('duplicate-table', `table ${name} appears twice`, line);
      tables.add(key);
      const item: TableItem = { kind: 'table', name, body: [] };
      items.push(item);
      open = { item, line, columns: null, seen: new Set() };
      return;
    }
    const p = PARAM.exec(text);
    if (p) {
      const name = p[1]!;
      const key = name.toLowerCase();
      if (params.has(key)) throw new IniError('duplicate-param', `parameter ${name} appears twice`, line);
      params.add(key);
      items.push({ kind: 'param', name, value: parseScalarValue(p[2]!, line) });
      return;
    }
    throw new IniError('syntax', 'not a comment, section, parameter or table line', line);
  });
  const left = open as OpenTable | null;
  if (left) throw new IniError('unterminated-table', `table ${left.item.name} (opened at line ${left.line}) is never closed`, left.line);
  return { items };
}

function writeTableLine(name: string, t: TableLine): string {
  switch (t.kind) {
    case 'blank':
      return '';
    case 'comment':
      return t.text;
    case 'format':
      return `FORMAT ${t.indexName} = ${t.columns.join(', ')};`;
    case 'row':
      return `${name} ${t.index} = ${t.values.map(formatTableField).join(', ')};`;
  }
}

/**
 * Writes the document the way the device's own export does: `Name = value`, `[ Table ]` with spaces,
 * CR LF line ends and a final newline (protocols.md §(a): "Every line ends with CR … the file ends with
 * a newline"). Output depends only on the document, so equal documents give equal bytes.
 */
export function writeIni(doc: IniDoc): string {
  const out: string[] = [];
  for (const item of doc.items) {
    switch (item.kind) {
      case 'blank':
        out.push('');
        break;
      case 'comment':
        out.push(item.text);
        break;
      case 'section':
        out.push(`[${item.name}]`);
        break;
      case 'param':
        out.push(`${item.name} = ${formatScalar(item.value)}`);
        break;
      case 'table':
        out.push(`[ ${item.name} ]`);
        for (const t of item.body) out.push(writeTableLine(item.name, t));
        out.push(`[ \\${item.name} ]`);
        break;
    }
  }
  return out.map((l) => l + '\r\n').join('');
}

/** A deep copy, so a parsed template can be rendered many times without being changed. */
export function cloneDoc(doc: IniDoc): IniDoc {
  return structuredClone(doc);
}
