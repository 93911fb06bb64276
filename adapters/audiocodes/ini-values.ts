import { ApsError } from '../../src/adapter-api.ts';
// Values of an AudioCodes ini file: how one scalar value or one table row is read and written.
// Syntax follows protocols.md §(a) "ini file syntax" (MP-11x 6.6 manual §8.1, MP-124 manual p.190) and the
// export sample fixtures/MP124_6.60A_export.ini:
//   scalar strings are in single quotes    VoiceMenuPassword = 'disable'
//   table strings are in double quotes     ProxyIp 0 = "sip.carrier.com.au:5060", 0, 1;
//   numbers, IP addresses, lists are bare  DNSPriServerIP = 172.16.0.10
// Error messages never quote a value: values hold SIP and HTTP passwords, and errors end up in logs.
// The device knows no escapes: a quote of the same kind can't appear inside a string, and a backslash is a
// literal backslash (e.g. in manipulation-table regexes). That is why the `ini` package's unquoting
// (JSON.parse of the inner text, '208' -> 208, `\;` escapes) is not used here; see ini-doc.ts.

/** One value: `string` is written quoted, `bare` exactly as is (numbers, IPs, lists, empty fields). */
export type IniValue = { kind: 'string'; value: string } | { kind: 'bare'; value: string };

/** What callers may pass: a JS string becomes a quoted string, a number a bare number. */
export type IniValueInput = string | number | IniValue;

export type IniErrorCode =
  | 'syntax'
  | 'unterminated-table'
  | 'unexpected-table-end'
  | 'duplicate-row'
  | 'duplicate-param'
  | 'duplicate-table'
  | 'bad-row'
  | 'bad-value'
  | 'no-table';

/** Every fault in reading or editing an ini document. `line` is 1-based, 0 when not from parsing. */
export class IniError extends ApsError {
  readonly reason: IniErrorCode;
  readonly line: number;
  constructor(reason: IniErrorCode, message: string, line = 0) {
    // Bad ini text is bad input (an import, a template): the command or the preview names the line.
    super('bad_request', line > 0 ? `ini line ${line}: ${message}` : `ini: ${message}`);
    this.name = 'IniError';
    this.reason = reason;
    this.line = line;
  }
}

export function toIniValue(input: IniValueInput): IniValue {
  if (typeof input === 'string') return { kind: 'string', value: input };
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new IniError('bad-value', `not a finite number: ${input}`);
    return { kind: 'bare', value: String(input) };
  }
  return { kind: input.kind, value: input.value };
}

/** The text of a value with no quotes, for callers that only compare or display it. */
export function valueText(value: IniValue): string {
  return value.value;
}

function checkNoLineBreak(text: string, what: string): void {
  if (/[\r\n]/.test(text)) throw new IniError('bad-value', `${what} contains a line break`);
}

/** Throws unless the value can be written as a scalar (`Name = value`) line. */
export function checkScalarValue(value: IniValue): void {
  checkNoLineBreak(value.value, 'value');
  if (value.kind === 'string' && value.value.includes("'")) {
    throw new IniError('bad-value', `a scalar string can't contain a single quote`);
  }
  if (value.kind === 'bare' && /^['"]/.test(value.value.trim())) {
    throw new IniError('bad-value', `a bare value can't start with a quote`);
  }
}

/** Throws unless the value can be written as one field of a table row. */
export function checkTableValue(value: IniValue): void {
  checkNoLineBreak(value.value, 'table value');
  if (value.kind === 'string' && value.value.includes('"')) {
    throw new IniError('bad-value', `a table string can't contain a double quote`);
  }
  if (value.kind === 'bare' && /[",;]/.test(value.value)) {
    throw new IniError('bad-value', `a bare table value can't contain '"', ',' or ';'`);
  }
}

export function formatScalar(value: IniValue): string {
  return value.kind === 'string' ? `'${value.value}'` : value.value;
}

export function formatTableField(value: IniValue): string {
  return value.kind === 'string' ? `"${value.value}"` : value.value;
}

/**
 * The text right of `=` on a scalar line. A value quoted with ' (or ", which the device also reads) is a
 * string; anything else is bare and kept verbatim (trimmed).
 */
export function parseScalarValue(raw: string, line: number): IniValue {
  const text = raw.trim();
  const q = text[0];
  if (q === "'" || q === '"') {
    if (text.length < 2 || text[text.length - 1] !== q) {
      throw new IniError('syntax', `unterminated quoted value`, line);
    }
    const inner = text.slice(1, -1);
    if (inner.includes(q)) throw new IniError('syntax', `stray quote inside a quoted value`, line);
    return { kind: 'string', value: inner };
  }
  return { kind: 'bare', value: text };
}

/**
 * The fields of a table row (the text between `=` and the closing `;`), split on commas outside double
 * quotes. An empty field (`, ,`) is a bare empty value, as the manual allows.
 */
export function parseRowValues(raw: string, line: number): IniValue[] {
  const out: IniValue[] = [];
  let i = 0;
  const n = raw.length;
  for (;;) {
    while (i < n && (raw[i] === ' ' || raw[i] === '\t')) i++;
    if (raw[i] === '"') {
      const end = raw.indexOf('"', i + 1);
      if (end < 0) throw new IniError('bad-row', `unterminated string in row values`, line);
      out.push({ kind: 'string', value: raw.slice(i + 1, end) });
      i = end + 1;
      while (i < n && (raw[i] === ' ' || raw[i] === '\t')) i++;
      if (i < n && raw[i] !== ',') throw new IniError('bad-row', `text after a quoted value in field ${out.length}`, line);
    } else {
      let end = raw.indexOf(',', i);
      if (end < 0) end = n;
      const field = raw.slice(i, end).trim();
      if (field.includes('"')) throw new IniError('bad-row', `stray double quote in field ${out.length + 1}`, line);
      out.push({ kind: 'bare', value: field });
      i = end;
    }
    if (i >= n) break;
    i++; // the comma
  }
  return out;
}
