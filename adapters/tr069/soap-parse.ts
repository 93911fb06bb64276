// CWMP SOAP 1.1 envelope parser (TR-069 Annex A.2–A.4). Takes one HTTP body (already content-decoded,
// see body.ts) and returns a typed message, or throws CwmpParseError. Never anything else: every failure
// path of the XML library is caught and mapped.
import { CwmpParseError, SOAP_ENV_NS, isCwmpNamespace } from './cwmp-types.ts';
import type { CwmpHeader, CwmpNamespace, ParsedCwmp } from './cwmp-types.ts';
import { parseBoolean, readRpc } from './rpc-parse.ts';
import type { RpcContext } from './rpc-parse.ts';
import { DEFAULT_MAX_DEPTH, attr, child, parseXmlTree } from './xml-tree.ts';
import type { XmlElement } from './xml-tree.ts';

/** Default cap on a body: an Inform is a few KiB; this leaves room for long parameter lists. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface ParseOptions {
  maxBytes?: number;
  maxDepth?: number;
}

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
/** Non-fatal (a stray Latin-1 byte becomes U+FFFD); one decoder for every body (decode() without `stream` keeps no state). */
const UTF8 = new TextDecoder('utf-8');
/** Anything but whitespace (the same set as String.prototype.trim): an empty POST has none. */
const NOT_SPACE = /\S/;
const CWMP_URN = /^urn:dslforum-org:cwmp-\d+-\d+$/;

/**
 * Parse a CPE→ACS (or, for a simulator, ACS→CPE) body. An empty or whitespace-only body is the
 * "empty POST"/"empty response" of TR-069 §3.7.2.4 and yields kind 'Empty'.
 */
export function parseCwmp(body: string | Uint8Array, options: ParseOptions = {}): ParsedCwmp {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  if (size > maxBytes) throw new CwmpParseError('too-large', `body exceeds ${maxBytes} bytes`);
  // Non-fatal decoding: a stray Latin-1 byte in a value becomes U+FFFD instead of failing the session.
  let text = typeof body === 'string' ? body : UTF8.decode(body);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!NOT_SPACE.test(text)) return { kind: 'Empty', ns: null, header: {} };

  const root = parseXmlTree(text, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  if (root.local !== 'Envelope' || root.uri !== SOAP_ENV_NS) {
    throw new CwmpParseError('not-soap', 'root element is not a SOAP 1.1 Envelope');
  }
  const headerEl = child(root, 'Header');
  const header = headerEl ? readHeader(headerEl) : {};
  const bodyEl = root.children.find((c) => c.local === 'Body' && c.uri === SOAP_ENV_NS);
  if (bodyEl === undefined) throw new CwmpParseError('not-soap', 'SOAP Envelope has no Body');

  const rpc = bodyEl.children[0];
  const ns = detectNamespace(root, headerEl, bodyEl, rpc);
  // Built by assignment, not by spreading optional parts (which showed in the profile, issue 15).
  const ctxBase: { ns?: CwmpNamespace; id?: string } = {};
  if (ns) ctxBase.ns = ns;
  if (header.id !== undefined) ctxBase.id = header.id;
  if (rpc === undefined) {
    // An envelope with an empty Body carries no RPC: treat it like the empty POST.
    return { kind: 'Empty', ns: null, header };
  }
  if (bodyEl.children.length > 1) {
    // TR-069 §A.2.1: one RPC per envelope.
    throw new CwmpParseError('invalid-message', 'SOAP Body holds more than one element', ctxBase);
  }
  const isSoapFault = rpc.local === 'Fault' && rpc.uri === SOAP_ENV_NS;
  if (!isSoapFault && rpc.uri !== '' && !isCwmpNamespace(rpc.uri)) {
    throw new CwmpParseError('unknown-namespace', 'RPC element is not in a known CWMP namespace', ctxBase);
  }
  if (ns === undefined) {
    throw new CwmpParseError('unknown-namespace', 'no known CWMP namespace in the envelope', ctxBase);
  }
  const ctx: RpcContext = { ns, method: rpc.local };
  if (header.id !== undefined) ctx.id = header.id;
  const message = isSoapFault || rpc.local !== 'Fault' ? readRpc(rpc, ctx) : undefined;
  if (message === undefined) {
    throw new CwmpParseError('unknown-method', `method not supported: ${printable(rpc.local)}`, ctx);
  }
  return { kind: 'Message', ns, header, message };
}

/** TR-069 §A.4.1 header elements, matched by local name. Unknown header elements are ignored. */
function readHeader(el: XmlElement): CwmpHeader {
  const h: CwmpHeader = {};
  for (const c of el.children) {
    switch (c.local) {
      case 'ID':
        h.id = c.text;
        h.idMustUnderstand = parseBoolean(attr(c, 'mustUnderstand') ?? '') === true;
        break;
      case 'HoldRequests':
        h.holdRequests = parseBoolean(c.text) === true;
        break;
      case 'NoMoreRequests':
        h.noMoreRequests = parseBoolean(c.text) === true;
        break;
      case 'sessionTimeout': {
        const t = c.text.trim();
        if (/^\d{1,10}$/.test(t)) h.sessionTimeout = Number(t);
        break;
      }
    }
  }
  return h;
}

/**
 * The CWMP namespace of this envelope: the RPC element's own namespace first, then cwmp:ID's, then any
 * xmlns declaration on Envelope/Body/RPC whose value is a cwmp URN (for CPEs that leave the RPC element
 * unqualified). A dslforum cwmp URN of an unknown version is an error, not a silent fallback.
 */
function detectNamespace(
  root: XmlElement,
  headerEl: XmlElement | undefined,
  bodyEl: XmlElement,
  rpc: XmlElement | undefined,
): CwmpNamespace | undefined {
  const candidates: string[] = [];
  if (rpc) {
    candidates.push(rpc.uri);
    const detail = rpc.uri === SOAP_ENV_NS ? child(rpc, 'detail') : undefined;
    const cwmpFault = detail && child(detail, 'Fault');
    if (cwmpFault) candidates.push(cwmpFault.uri);
  }
  const id = headerEl && child(headerEl, 'ID');
  if (id) candidates.push(id.uri);
  for (const el of [rpc, bodyEl, root]) {
    for (const a of el?.attrs ?? []) if (a.uri === XMLNS_NS) candidates.push(a.value);
  }
  const urns = candidates.filter((u) => CWMP_URN.test(u));
  const first = urns[0];
  if (first === undefined) return undefined;
  if (!isCwmpNamespace(first)) {
    throw new CwmpParseError('unknown-namespace', `unsupported CWMP namespace ${printable(first)}`);
  }
  return first;
}

/** Names from the wire in error messages: short and printable only. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}
