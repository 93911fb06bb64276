// A small namespace-aware element tree built from xml2js output. The SOAP layer reads only this tree, so
// element names are compared as (namespace URI, local name) whatever prefix the sender chose, and no
// element or attribute name is ever used as an object key (names from the wire stay inert strings:
// `__proto__` or `constructor` elements cannot reach Object.prototype).
import xml2js from 'xml2js';
import { CwmpParseError } from './cwmp-types.ts';

export interface XmlAttr {
  uri: string;
  local: string;
  value: string;
}

export interface XmlElement {
  uri: string;
  local: string;
  attrs: XmlAttr[];
  children: XmlElement[];
  /** Concatenated character data (text and CDATA) directly inside this element, untrimmed. */
  text: string;
}

export const DEFAULT_MAX_DEPTH = 64;

// xml2js options, and why:
// - xmlns: every element and attribute carries its resolved namespace URI and local name ($ns).
// - explicitChildren + preserveChildrenOrder: children in document order in `$$` (ParameterList order).
// - charsAsChildren + includeWhiteChars: text nodes kept verbatim, so a whitespace-only Value survives
//   (without them xml2js drops whitespace-only text).
// - strict (default): malformed XML and unbound prefixes are errors, not guesses.
// - async false: the callback runs synchronously, so parsing is a plain function.
const PARSER_OPTIONS: xml2js.ParserOptions = {
  xmlns: true,
  explicitChildren: true,
  preserveChildrenOrder: true,
  charsAsChildren: true,
  includeWhiteChars: true,
  explicitRoot: true,
  strict: true,
  async: false,
  trim: false,
  normalize: false,
};

type Raw = Record<string, unknown>;

/** Parse XML text into an element tree. Throws CwmpParseError (malformed-xml, forbidden-dtd, too-deep). */
export function parseXmlTree(text: string, maxDepth: number = DEFAULT_MAX_DEPTH): XmlElement {
  // SOAP 1.1 §3: "A SOAP message MUST NOT contain a Document Type Declaration". Refusing it also closes
  // entity-expansion tricks before the parser sees them. A DOCTYPE can only sit in the prolog.
  if (/<!DOCTYPE/i.test(prolog(text))) {
    throw new CwmpParseError('forbidden-dtd', 'document type declarations are not allowed in SOAP');
  }
  let result: unknown;
  let failure: unknown;
  const parser = new xml2js.Parser(PARSER_OPTIONS);
  parser.parseString(text, (err: unknown, res: unknown) => {
    failure = err;
    result = res;
  });
  if (failure || result === undefined || result === null || typeof result !== 'object') {
    throw new CwmpParseError('malformed-xml', 'body is not well-formed XML');
  }
  const rootKey = Object.keys(result)[0];
  if (rootKey === undefined) throw new CwmpParseError('malformed-xml', 'body has no root element');
  const root = Object.getOwnPropertyDescriptor(result, rootKey)?.value as Raw;
  return convert(root, 1, maxDepth);
}

/** The text before the root element's start tag (XML declaration, comments, PIs, DOCTYPE). */
function prolog(text: string): string {
  let i = 0;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt < 0) return text;
    const next = text.charAt(lt + 1);
    if (next === '?') {
      const end = text.indexOf('?>', lt);
      if (end < 0) return text;
      i = end + 2;
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt);
      if (end < 0) return text;
      i = end + 3;
    } else if (next === '!') {
      return text.slice(0, lt + 12);
    } else {
      return text.slice(0, lt);
    }
  }
}

function convert(raw: Raw, depth: number, maxDepth: number): XmlElement {
  if (depth > maxDepth) throw new CwmpParseError('too-deep', `XML nesting deeper than ${maxDepth}`);
  const ns = own(raw, '$ns') as { uri?: string; local?: string } | undefined;
  const el: XmlElement = { uri: ns?.uri ?? '', local: ns?.local ?? '', attrs: [], children: [], text: '' };
  const attrs = own(raw, '$') as Raw | undefined;
  if (attrs) {
    for (const key of Object.keys(attrs)) {
      const a = own(attrs, key) as { uri?: string; local?: string; value?: string };
      el.attrs.push({ uri: a.uri ?? '', local: a.local ?? key, value: a.value ?? '' });
    }
  }
  const kids = own(raw, '$$');
  if (Array.isArray(kids)) {
    for (const k of kids as Raw[]) {
      // Text nodes are {'#name': '__text__', _: text} without $ns; an element literally named __text__
      // still has $ns, so the two cannot be confused.
      if (own(k, '$ns') === undefined) el.text += String(own(k, '_') ?? '');
      else el.children.push(convert(k, depth + 1, maxDepth));
    }
  }
  return el;
}

function own(o: object, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? (o as Raw)[key] : undefined;
}

/** First child with this local name (any namespace), or undefined. */
export function child(el: XmlElement, local: string): XmlElement | undefined {
  return el.children.find((c) => c.local === local);
}

/** All children with this local name, in document order. */
export function childrenNamed(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => c.local === local);
}

/** Attribute value by local name (any namespace). */
export function attr(el: XmlElement, local: string): string | undefined {
  return el.attrs.find((a) => a.local === local)?.value;
}
