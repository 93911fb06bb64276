// A small namespace-aware element tree built straight from saxes events. The SOAP layer reads only this tree,
// so element names are compared as (namespace URI, local name) whatever prefix the sender chose, and no
// element or attribute name is ever used as an object key (names from the wire stay inert strings:
// `__proto__` or `constructor` elements cannot reach Object.prototype).
import { SaxesParser } from 'saxes';
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
 * Work limits, checked while the parser reads (before any tree is built): parsing is linear in the body and
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

const NOT_XML =
  '[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uFFFE\\uFFFF]|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const NOT_XML_CHAR = new RegExp(NOT_XML);
const NOT_XML_CHARS = new RegExp(NOT_XML, 'g');

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
  // A character XML 1.0 does not allow (a C0 control, U+FFFE/U+FFFF, a lone surrogate) is a CPE's stray byte
  // in a value: it becomes U+FFFD, as undecodable bytes do (soap-parse.ts), rather than failing the session.
  // (saxes refuses such characters; sax, the parser before it, passed them through.)
  if (NOT_XML_CHAR.test(text)) text = text.replace(NOT_XML_CHARS, '\uFFFD');
  // SOAP 1.1 §3: "A SOAP message MUST NOT contain a Document Type Declaration". Refusing it also closes
  // entity-expansion tricks before the parser sees them. A DOCTYPE can only sit in the prolog.
  if (/<!DOCTYPE/i.test(prolog(text))) {
    throw new CwmpParseError('forbidden-dtd', 'document type declarations are not allowed in SOAP');
  }
  return buildTree(text, l);
}

// saxes (strict XML, sax's faster successor: it slices runs of text where sax built every name and value one
// character at a time, ~2.5× the parse rate, issue 15), without its own namespace handling (sax's cost grew
// with declarations in scope × elements: a 150 KB body with 4000 declarations took 17 s); namespaces are
// resolved here in linear time with a bounded number of declarations. Limits are checked as the parser reads,
// so a hostile body stops early: an attribute over the limit is refused as it is read, not after the whole
// start tag.
function buildTree(text: string, l: XmlLimits): XmlElement {
  // Always read as XML 1.0 (a CWMP envelope is 1.0; 1.1 would refuse C1 controls in values that 1.0 allows).
  const parser = new SaxesParser({ xmlns: false, position: false, defaultXMLVersion: '1.0', forceXMLVersion: true });
  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];
  const scopes: Scope[] = [ROOT_SCOPE];
  let rawAttrs: Array<[string, string]> = [];
  let elements = 0;
  let declarations = 0;
  parser.on('attribute', ({ name, value }): void => {
    if (rawAttrs.length >= l.maxAttributesPerElement) {
      throw new CwmpParseError('too-complex', `an element has more than ${l.maxAttributesPerElement} attributes`);
    }
    if ((name === 'xmlns' || name.startsWith('xmlns:')) && ++declarations > l.maxNamespaceDeclarations) {
      throw new CwmpParseError('too-complex', `more than ${l.maxNamespaceDeclarations} namespace declarations`);
    }
    rawAttrs.push([name, value]);
  });
  parser.on('opentag', ({ name }): void => {
    if (++elements > l.maxElements) throw new CwmpParseError('too-complex', `more than ${l.maxElements} elements`);
    if (stack.length + 1 > l.maxDepth) throw new CwmpParseError('too-deep', `XML nesting deeper than ${l.maxDepth}`);
    if (root !== undefined && stack.length === 0) throw new CwmpParseError('malformed-xml', 'more than one root element');
    const parentScope = scopes[scopes.length - 1]!;
    const scope = rawAttrs.length === 0 ? parentScope : declare(rawAttrs, parentScope);
    const el = element(name, rawAttrs, scope);
    if (rawAttrs.length > 0) rawAttrs = [];
    if (stack.length === 0) root = el;
    else stack[stack.length - 1]!.children.push(el);
    stack.push(el);
    scopes.push(scope);
  });
  parser.on('closetag', (): void => {
    stack.pop();
    scopes.pop();
  });
  // Character data (text and CDATA) directly inside an element, concatenated verbatim: a whitespace-only
  // Value survives.
  const onText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('doctype', (): void => {
    throw new CwmpParseError('forbidden-dtd', 'document type declarations are not allowed in SOAP');
  });
  parser.on('error', (): void => {
    throw new CwmpParseError('malformed-xml', 'body is not well-formed XML');
  });
  parser.write(text).close();
  if (root === undefined) throw new CwmpParseError('malformed-xml', 'body has no root element');
  return root;
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

/** The scope an element's own declarations make (its parent's when it declares nothing). */
function declare(rawAttrs: Array<[string, string]>, parentScope: Scope): Scope {
  // Declarations first: they apply to the element that carries them and to its attributes.
  let scope = parentScope;
  for (const [key, value] of rawAttrs) {
    const declared = key === 'xmlns' ? '' : key.startsWith('xmlns:') ? key.slice(6) : undefined;
    if (declared === undefined) continue;
    if (declared === 'xmlns' || (declared === 'xml') !== (value === XML_NS) || value === XMLNS_NS) {
      throw new CwmpParseError('malformed-xml', 'reserved namespace prefix or URI misused');
    }
    if (scope === parentScope) scope = new Map(parentScope);
    // xmlns:p="" is not allowed in XML 1.0 namespaces; treated as unbinding, like xmlns="".
    (scope as Map<string, string>).set(declared, value);
  }
  return scope;
}

/** The attributes of every element without any: one shared empty list, frozen (nothing may write to it). */
const NO_ATTRS = Object.freeze([]) as unknown as XmlAttr[];

/**
 * One element with its name and attributes resolved in `scope` (declare()'s). Most CWMP elements have no
 * attributes and no prefix: no array or tuple is made for them (a session's Inform has ~150 elements, issue 15).
 */
function element(name: string, rawAttrs: Array<[string, string]>, scope: Scope): XmlElement {
  const colon = name.indexOf(':');
  const prefix = colon < 0 ? '' : name.slice(0, colon);
  const uri = scope.get(prefix) ?? '';
  if (prefix !== '' && uri === '') throw unbound(prefix);
  const el: XmlElement = { uri, local: colon < 0 ? name : name.slice(colon + 1), attrs: NO_ATTRS, children: [], text: '' };
  if (rawAttrs.length === 0) return el;
  el.attrs = [];
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
  return el;
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
