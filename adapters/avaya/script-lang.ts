// The Avaya script / settings language, one statement per line (protocols.md §(b) "Script / settings
// language", from the 9608 admin guide pp.59-60, the 1600 guide p.57, the 1603SW-I SIP guide p.66):
//   SET NAME value            a value holding a blank or comma must be double-quoted; empty is ""
//   GET filename              $VAR expanded; a file that downloads ends the current one
//   GOTO TAG                  continue after "# TAG"; a missing tag ends the file
//   IF $NAME SEQ value GOTO TAG   string equality, case-insensitive; an unknown variable skips the line
//   # TAG                     exactly "#", one space, one word
// Any other line is a comment ("##…", "#text", "# two words"). Keywords are case-insensitive (Avaya's
// own 16xx script writes "goto"). Both the interpreter and the renderers use these rules.

export type Statement =
  | { kind: 'set'; name: string; value: string }
  | { kind: 'get'; file: string }
  | { kind: 'goto'; tag: string }
  | { kind: 'if'; variable: string; value: string; tag: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'comment' };

/** A word: no blank (the documented tag rule; Avaya parameter names and file names are words too). */
const WORD = /^\S+$/;

/** Parses one line. Trailing blanks are ignored (real files carry them: "SET TCP_KEEP_ALIVE_STATUS 1 "). */
export function parseLine(raw: string): Statement {
  const line = raw.replace(/\s+$/, '');
  // A tag is "#", exactly one space, then one word: "# GETSET". "#GETSET", "#  X" and "# a b" are comments.
  const tag = /^# (\S+)$/.exec(line);
  if (tag) return { kind: 'tag', tag: tag[1]! };
  const body = line.replace(/^\s+/, '');
  if (body.startsWith('#') || body === '') return { kind: 'comment' };
  const words = body.split(/\s+/);
  const keyword = words[0]!.toUpperCase();
  if (keyword === 'SET' && words.length >= 2) {
    const name = words[1]!;
    // The value is the rest of the line after the name; surrounding double quotes are not part of it.
    const rest = body.slice(body.indexOf(name, 3) + name.length).trim();
    return { kind: 'set', name, value: unquote(rest) };
  }
  if (keyword === 'GET' && words.length === 2) return { kind: 'get', file: words[1]! };
  if (keyword === 'GOTO' && words.length === 2) return { kind: 'goto', tag: words[1]! };
  if (
    keyword === 'IF' &&
    words.length === 6 &&
    words[1]!.startsWith('$') &&
    words[2]!.toUpperCase() === 'SEQ' &&
    words[4]!.toUpperCase() === 'GOTO'
  ) {
    return { kind: 'if', variable: words[1]!.slice(1), value: unquote(words[3]!), tag: words[5]! };
  }
  // Not a statement the phones know: they skip it, and so does the interpreter.
  return { kind: 'comment' };
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** The generator's quoting rule: double quotes when the value is empty or holds a blank, "," or ";". */
export function quoteValue(value: string): string {
  return value === '' || /[\s,;]/.test(value) ? `"${value}"` : value;
}

/** Why a value cannot be written into a SET line, or null when it can (line breaks and quotes break the file). */
export function valueProblem(value: string): string | null {
  if (/[\r\n]/.test(value)) return 'holds a line break';
  if (value.includes('"')) return 'holds a double quote';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) return 'holds a control character';
  return null;
}

/** An Avaya parameter name as an APS variable: upper case, digits and "_" (SIPDOMAIN, SIP_CONTROLLER_LIST). */
export function isAvayaParameter(name: string): boolean {
  return /^[A-Z][A-Z0-9_]*$/.test(name);
}

/** Whether a string can be a tag or a GOTO target (one word). */
export function isWord(s: string): boolean {
  return WORD.test(s);
}
