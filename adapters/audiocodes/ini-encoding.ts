// The bytes of an ini file. A gateway's own export may be latin-1 (a `é` in a comment or a table string is
// one byte, not valid UTF-8): such a file is read as latin-1 rather than with U+FFFD in place of those
// bytes, and an ini that came in as latin-1 is served as latin-1, so what the gateway exported is what it
// gets back. Everything else is UTF-8 (ASCII, the common case, is the same bytes in both).
import { isUtf8 } from 'node:buffer';
import { IniError } from './ini-values.ts';

export const INI_ENCODINGS = ['utf8', 'latin1'] as const;
export type IniEncoding = (typeof INI_ENCODINGS)[number];

/** The text of an ini file: UTF-8 when the bytes are valid UTF-8, else latin-1 (every byte is a character). */
export function decodeIni(bytes: Buffer): { text: string; encoding: IniEncoding } {
  return isUtf8(bytes) ? { text: bytes.toString('utf8'), encoding: 'utf8' } : { text: bytes.toString('latin1'), encoding: 'latin1' };
}

/** The bytes of ini text; a character latin-1 can't hold is an IniError naming its line, never a silent '?'. */
export function encodeIni(text: string, encoding: IniEncoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  // eslint-disable-next-line no-control-regex -- \x00-\xff is the Latin-1 range a windows-1252 file can hold, not a typo.
  const bad = /[^\x00-\xff]/u.exec(text);
  if (bad) {
    const line = text.slice(0, bad.index).split('\n').length;
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new IniError('bad-value', `character U+${code} can't be written in a latin-1 ini (iniEncoding: latin1)`, line);
  }
  return Buffer.from(text, 'latin1');
}
