// Edits on an AudioCodes ini document: scalar parameters and table rows. All functions change the
// document in place (use cloneDoc() first to keep a template intact). Names compare case-insensitively
// because the device's do (protocols.md §(a) "Parameter names are case-insensitive"); an existing name
// keeps the spelling the template author used.
import { IniError, checkScalarValue, checkTableValue, toIniValue } from './ini-values.ts';
import type { IniValue, IniValueInput } from './ini-values.ts';
import type { IniDoc, ParamItem, RowLine, TableItem, FormatLine, IniItem } from './ini-doc.ts';

/** Positional values (one per FORMAT column) or values by column name (`IpAddress` or `ProxyIp_IpAddress`). */
export type RowInput = readonly IniValueInput[] | Readonly<Record<string, IniValueInput>>;

const PARAM_NAME = /^[A-Za-z_][\w.\-[\]]*$/;
const TABLE_NAME = /^[A-Za-z_]\w*$/;

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export function findParam(doc: IniDoc, name: string): ParamItem | undefined {
  return doc.items.find((i): i is ParamItem => i.kind === 'param' && same(i.name, name));
}

export function getParam(doc: IniDoc, name: string): IniValue | undefined {
  return findParam(doc, name)?.value;
}

/** Where a new scalar goes: after the last parameter of `[SYSTEM Params]` (else of the first section). */
function insertionPoint(items: IniItem[]): number {
  const sections = items.flatMap((it, i) => (it.kind === 'section' ? [i] : []));
  const system = sections.find((i) => same((items[i] as { name: string }).name, 'SYSTEM Params'));
  const start = system ?? sections[0];
  if (start === undefined) {
    // No sections: with the other top-level parameters, ahead of any table.
    const firstTable = items.findIndex((it) => it.kind === 'table');
    const end = firstTable < 0 ? items.length : firstTable;
    for (let i = end - 1; i >= 0; i--) if (items[i]!.kind === 'param') return i + 1;
    return end;
  }
  let lastParam = -1;
  for (let i = start + 1; i < items.length; i++) {
    const k = items[i]!.kind;
    if (k === 'section' || k === 'table') break;
    if (k === 'param') lastParam = i;
  }
  if (lastParam >= 0) return lastParam + 1;
  return items[start + 1]?.kind === 'blank' ? start + 2 : start + 1;
}

/**
 * Sets a scalar: replaces the value in place if the name exists, else adds it (see insertionPoint).
 * A JS string is written quoted, except over an existing bare value: the device's own export shows
 * which parameters it writes bare (IP addresses such as SyslogServerIP), so their kind is kept.
 */
export function setParam(doc: IniDoc, name: string, value: IniValueInput): void {
  if (!PARAM_NAME.test(name)) throw new IniError('bad-value', `bad parameter name ${JSON.stringify(name)}`);
  const existing = findParam(doc, name);
  const v = toIniValue(value);
  if (typeof value === 'string' && existing?.value.kind === 'bare') v.kind = 'bare';
  try {
    checkScalarValue(v);
  } catch (e) {
    throw new IniError('bad-value', `parameter ${name}: ${(e as Error).message.replace(/^ini: /, '')}`);
  }
  if (existing) {
    existing.value = v;
    return;
  }
  doc.items.splice(insertionPoint(doc.items), 0, { kind: 'param', name, value: v });
}

/** Removes a scalar; true when it was there. */
export function deleteParam(doc: IniDoc, name: string): boolean {
  const i = doc.items.findIndex((it) => it.kind === 'param' && same(it.name, name));
  if (i < 0) return false;
  doc.items.splice(i, 1);
  return true;
}

export function findTable(doc: IniDoc, name: string): TableItem | undefined {
  return doc.items.find((i): i is TableItem => i.kind === 'table' && same(i.name, name));
}

function formatOf(table: TableItem): FormatLine | undefined {
  return table.body.find((t): t is FormatLine => t.kind === 'format');
}

function fullColumn(table: string, col: string): string {
  return col.toLowerCase().startsWith(`${table.toLowerCase()}_`) ? col : `${table}_${col}`;
}

/**
 * Returns the table, creating it at the end of the document (tables must follow the tables they refer
 * to, so the caller orders its calls) or adding a FORMAT to a FORMAT-less placeholder. Columns may be
 * given short (`IpAddress`) or full (`ProxyIp_IpAddress`); an existing FORMAT must list the same ones.
 */
export function ensureTable(doc: IniDoc, name: string, columns: readonly string[]): TableItem {
  if (!TABLE_NAME.test(name)) throw new IniError('bad-value', `bad table name ${JSON.stringify(name)}`);
  if (columns.length === 0 || columns.some((c) => !TABLE_NAME.test(c))) {
    throw new IniError('bad-value', `table ${name}: bad column list`);
  }
  const full = columns.map((c) => fullColumn(name, c));
  let table = findTable(doc, name);
  if (!table) {
    if (doc.items.length > 0 && doc.items[doc.items.length - 1]!.kind !== 'blank') doc.items.push({ kind: 'blank' });
    table = { kind: 'table', name, body: [{ kind: 'blank' }] };
    doc.items.push(table, { kind: 'blank' });
  }
  const format = formatOf(table);
  if (!format) {
    table.body.push({ kind: 'format', indexName: `${name}_Index`, columns: full }, { kind: 'blank' });
  } else if (format.columns.length !== full.length || format.columns.some((c, i) => !same(c, full[i]!))) {
    throw new IniError('bad-value', `table ${name} exists with other columns`);
  }
  return table;
}

export function getTableRows(doc: IniDoc, name: string): RowLine[] {
  return findTable(doc, name)?.body.filter((t): t is RowLine => t.kind === 'row') ?? [];
}

export function getTableRow(doc: IniDoc, name: string, index: number): RowLine | undefined {
  return getTableRows(doc, name).find((r) => r.index === index);
}

function rowValues(table: TableItem, format: FormatLine, input: RowInput, old: RowLine | undefined): IniValue[] {
  const cols = format.columns;
  let values: (IniValue | undefined)[];
  if (Array.isArray(input)) {
    if (input.length !== cols.length) {
      throw new IniError('bad-value', `table ${table.name}: ${input.length} values for ${cols.length} columns`);
    }
    values = (input as readonly IniValueInput[]).map(toIniValue);
  } else {
    values = old ? old.values.slice() : new Array<IniValue | undefined>(cols.length).fill(undefined);
    for (const [key, v] of Object.entries(input as Record<string, IniValueInput>)) {
      const at = cols.findIndex((c) => same(c, fullColumn(table.name, key)));
      if (at < 0) throw new IniError('bad-value', `table ${table.name} has no column ${key}`);
      values[at] = toIniValue(v);
    }
    const missing = values.findIndex((v) => v === undefined);
    if (missing >= 0) throw new IniError('bad-value', `table ${table.name}: no value for ${cols[missing]}`);
  }
  return values.map((v, i) => {
    try {
      checkTableValue(v!);
    } catch (e) {
      throw new IniError('bad-value', `table ${table.name} column ${cols[i]}: ${(e as Error).message.replace(/^ini: /, '')}`);
    }
    return v!;
  });
}

/**
 * Replaces row `index` or inserts it in index order. A record input merges into an existing row; a new
 * row needs every column. The table must exist with a FORMAT (see ensureTable).
 */
export function upsertTableRow(doc: IniDoc, name: string, index: number, input: RowInput): void {
  if (!Number.isInteger(index) || index < 0) throw new IniError('bad-value', `table ${name}: bad row index`);
  const table = findTable(doc, name);
  const format = table && formatOf(table);
  if (!table || !format) throw new IniError('no-table', `table ${name} does not exist or has no FORMAT`);
  const old = table.body.find((t): t is RowLine => t.kind === 'row' && t.index === index);
  const values = rowValues(table, format, input, old);
  if (old) {
    old.values = values;
    return;
  }
  const body = table.body;
  let at = body.findIndex((t) => t.kind === 'row' && t.index > index);
  if (at < 0) {
    const lastRow = body.map((t) => t.kind).lastIndexOf('row');
    at = (lastRow >= 0 ? lastRow : body.indexOf(format)) + 1;
  }
  body.splice(at, 0, { kind: 'row', index, values });
}

/** Removes row `index`; true when it was there. */
export function deleteTableRow(doc: IniDoc, name: string, index: number): boolean {
  const table = findTable(doc, name);
  if (!table) return false;
  const at = table.body.findIndex((t) => t.kind === 'row' && t.index === index);
  if (at < 0) return false;
  table.body.splice(at, 1);
  return true;
}
