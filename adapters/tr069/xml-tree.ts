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

/**
 * Work limits, checked while sax reads (before any tree is built): parsing is linear in the body and
 * these stop it early. A CWMP message from a CPE is a few hundred elements with a handful of namespace
 * declarations on the Envelope; anything far beyond is not CWMP.
 */
export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
  maxAttributesPerElement: number;
  /** xmlns and xmlns:p attributes in the whole document. */
  maxNamespaceDeclarations: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxDepth: DEFAULT_MAX_DEPTH,
  maxElements: 20_000,
  maxAttributesPerElement: 64,
  maxNamespaceDeclarations: 128,
};

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
// Element names reach xml2js's output with this mark, so an element can never be taken for a text node
// ('#name' "__text__") nor collide with xml2js's own keys ($, $$, _).
const ELEMENT_MARK = 'e:';

// xml2js options, and why:
// - xmlns off: sax's own namespace handling costs (declarations in scope × elements), which made a
//   150 KB body with 4000 declarations take 17 s. Namespaces are resolved here instead, in linear time
//   with a bounded number of declarations.
// - explicitChildren + preserveChildrenOrder: children in document order in `$$` (ParameterList order).
// - charsAsChildren + includeWhiteChars: text nodes kept verbatim, so a whitespace-only Value survives
//   (without them xml2js drops whitespace-only text).
// - strict (default): malformed XML is an error, not a guess.
// - async false: the callback runs synchronously, so parsing is a plain function.
// - tag/attribute name processors: count elements and attributes as sax reads them, and stop at a limit.
function parserOptions(limits: XmlLimits): xml2js.ParserOptions {
  let elements = 0;
  let attrs = 0;
  let declarations = 0;
  return {
    xmlns: false,
    explicitChildren: true,
    preserveChildrenOrder: true,
    charsAsChildren: true,
    includeWhiteChars: true,
    explicitRoot: true,
    strict: true,
    async: false,
    trim: false,
    normalize: false,
    // xml2js calls these for an element's attributes first, then for its name.
    attrNameProcessors: [
      (name: string): string => {
        if (++attrs > limits.maxAttributesPerElement) {
          throw new CwmpParseError('too-complex', `an element has more than ${limits.maxAttributesPerElement} attributes`);
        }
        if ((name === 'xmlns' || name.startsWith('xmlns:')) && ++declarations > limits.maxNamespaceDeclarations) {
          throw new CwmpParseError('too-complex', `more than ${limits.maxNamespaceDeclarations} namespace declarations`);
        }
        return name;
      },
    ],
    tagNameProcessors: [
      (name: string): string => {
        attrs = 0;
        if (++elements > limits.maxElements) throw new CwmpParseError('too-complex', `more than ${limits.maxElements} elements`);
        return ELEMENT_MARK + name;
      },
    ],
  };
}

type Raw = Record<string, unknown>;
/** Prefix → namespace URI in scope ('' is the default namespace). */
type Scope = ReadonlyMap<string, string>;
const ROOT_SCOPE: Scope = new Map([
  ['xml', XML_NS],
  ['xmlns', XMLNS_NS],
]);

/**
 * Parse XML text into an element tree. Throws CwmpParseError (malformed-xml, forbidden-dtd, too-deep,
 * too-complex). `limits` may be a number: the maximum depth, the other limits at their defaults.
 */
export function parseXmlTree(text: string, limits: Partial<XmlLimits> | number = {}): XmlElement {
  const l: XmlLimits = { ...DEFAULT_XML_LIMITS, ...(typeof limits === 'number' ? { maxDepth: limits } : limits) };
  // SOAP 1.1 §3: "A SOAP message MUST NOT contain a Document Type Declaration". Refusing it also closes
  // entity-expansion tricks before the parser sees them. A DOCTYPE can only sit in the prolog.
  if (/<!DOCTYPE/i.test(prolog(text))) {
    throw new CwmpParseError('forbidden-dtd', 'document type declarations are not allowed in SOAP');
  }
  let result: unknown;
  let failure: unknown;
  const parser = new xml2js.Parser(parserOptions(l));
  parser.parseString(text, (err: unknown, res: unknown) => {
    failure = err;
    result = res;
  });
  if (failure instanceof CwmpParseError) throw failure;
  if (failure || result === undefined || result === null || typeof result !== 'object') {
    throw new CwmpParseError('malformed-xml', 'body is not well-formed XML');
  }
  const rootKey = Object.keys(result)[0];
  if (rootKey === undefined) throw new CwmpParseError('malformed-xml', 'body has no root element');
  const root = Object.getOwnPropertyDescriptor(result, rootKey)?.value as Raw;
  return convert(root, ROOT_SCOPE, 1, l.maxDepth);
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

/** Namespaces in XML 1.0 §3: "p:local" splits at the first colon; no colon, no prefix. */
function splitName(name: string): [prefix: string, local: string] {
  const i = name.indexOf(':');
  return i < 0 ? ['', name] : [name.slice(0, i), name.slice(i + 1)];
}

function unbound(prefix: string): CwmpParseError {
  return new CwmpParseError('malformed-xml', `unbound namespace prefix ${prefix.replace(/[^\x20-\x7e]/g, '?').slice(0, 32)}`);
}

function convert(raw: Raw, parentScope: Scope, depth: number, maxDepth: number): XmlElement {
  if (depth > maxDepth) throw new CwmpParseError('too-deep', `XML nesting deeper than ${maxDepth}`);
  const name = text(own(raw, '#name')).slice(ELEMENT_MARK.length);
  const rawAttrs: Array<[string, string]> = [];
  const attrs = own(raw, '$') as Raw | undefined;
  if (attrs) for (const key of Object.keys(attrs)) rawAttrs.push([key, text(own(attrs, key))]);
  // Declarations first: they apply to the element that carries them and to its attributes.
  let scope = parentScope;
  for (const [key, value] of rawAttrs) {
    const [prefix, local] = splitName(key);
    const declared = prefix === 'xmlns' ? local : key === 'xmlns' ? '' : undefined;
    if (declared === undefined) continue;
    if (declared === 'xmlns' || (declared === 'xml') !== (value === XML_NS) || value === XMLNS_NS) {
      throw new CwmpParseError('malformed-xml', 'reserved namespace prefix or URI misused');
    }
    if (scope === parentScope) scope = new Map(parentScope);
    // xmlns:p="" is not allowed in XML 1.0 namespaces; treated as unbinding, like xmlns="".
    (scope as Map<string, string>).set(declared, value);
  }
  const [prefix, local] = splitName(name);
  const uri = scope.get(prefix) ?? '';
  if (prefix !== '' && uri === '') throw unbound(prefix);
  const el: XmlElement = { uri, local, attrs: [], children: [], text: '' };
  for (const [key, value] of rawAttrs) {
    if (key === 'xmlns') {
      el.attrs.push({ uri: XMLNS_NS, local: '', value });
      continue;
    }
    const [p, l] = splitName(key);
    // Unprefixed attributes are in no namespace (the default namespace does not apply to them).
    const u = p === '' ? '' : (scope.get(p) ?? '');
    if (p !== '' && u === '') throw unbound(p);
    el.attrs.push({ uri: u, local: l, value });
  }
  const kids = own(raw, '$$');
  if (Array.isArray(kids)) {
    for (const k of kids as Raw[]) {
      // Text nodes are {'#name': '__text__', _: text}; element names all carry ELEMENT_MARK.
      const kname = own(k, '#name');
      if (typeof kname === 'string' && kname.startsWith(ELEMENT_MARK)) el.children.push(convert(k, scope, depth + 1, maxDepth));
      else el.text += text(own(k, '_'));
    }
  }
  return el;
}

/** Names, attribute values and text: xml2js (no value processors configured) hands them as strings. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
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
