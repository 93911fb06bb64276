// CWMP SOAP 1.1 envelope builder (TR-069 Annex A.2–A.4), for both the ACS and the CPE simulator.
// Output is deterministic text: fixed prefixes, fixed element order, escaping by xml2js's Builder.
import xml2js from 'xml2js';
import { CwmpBuildError, SOAP_ENC_NS, SOAP_ENV_NS, XSD_NS, XSI_NS } from './cwmp-types.ts';
import type { CwmpMessage, CwmpNamespace, FaultMessage, ParsedCwmp } from './cwmp-types.ts';
import { rpcNode, str } from './rpc-build.ts';
import type { XmlNode } from './rpc-build.ts';

export interface EnvelopeHeader {
  /** Namespace to speak: the one the CPE used in its Inform (TR-069 §A.2.3). */
  ns: CwmpNamespace;
  /** cwmp:ID; echoed from the request in responses, chosen by the sender for requests. */
  id?: string;
  /** ACS→CPE: the CPE must not send more requests in this session (TR-069 §A.4.1.2). */
  holdRequests?: boolean;
  /** CPE→ACS, deprecated (CWMP 1.0 only), kept for old-CPE simulation. */
  noMoreRequests?: boolean;
}

// Builder options: compact single-line output (no pretty-printing, so no whitespace text nodes inside
// values), an explicit UTF-8 XML declaration, and no CDATA so every value is entity-escaped.
const BUILDER = new xml2js.Builder({
  headless: false,
  xmldec: { version: '1.0', encoding: 'UTF-8' },
  renderOpts: { pretty: false },
  cdata: false,
});

// Prefixes as GenieACS emits them (known to interoperate with large CPE fleets; protocols.md §(d)).
function envelopeAttrs(ns: CwmpNamespace): Record<string, string> {
  return {
    'xmlns:soap-enc': SOAP_ENC_NS,
    'xmlns:soap-env': SOAP_ENV_NS,
    'xmlns:xsd': XSD_NS,
    'xmlns:xsi': XSI_NS,
    'xmlns:cwmp': ns,
  };
}

// The ACS's fixed answers (InformResponse, TransferCompleteResponse) differ only by namespace and cwmp:ID:
// built once by the builder around a placeholder ID, then the ID is escaped into place as the builder
// escapes text (xmlbuilder's textEscape), so the bytes are the builder's (soap-build.test.ts compares them).
const ID_SLOT = 'aps-id-slot-0';
const fixedAnswers = new Map<string, [string, string]>();

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

function fixedAnswer(message: CwmpMessage, header: EnvelopeHeader): string | undefined {
  if (header.id === undefined || header.holdRequests !== undefined || header.noMoreRequests !== undefined) return undefined;
  if (message.kind !== 'TransferCompleteResponse' && !(message.kind === 'InformResponse' && message.maxEnvelopes === 1)) return undefined;
  const key = `${message.kind}\0${header.ns}`;
  let parts = fixedAnswers.get(key);
  if (!parts) {
    const xml = buildEnvelope(message, { ns: header.ns, id: ID_SLOT });
    const at = xml.indexOf(`>${ID_SLOT}<`) + 1;
    parts = [xml.slice(0, at), xml.slice(at + ID_SLOT.length)];
    fixedAnswers.set(key, parts);
  }
  return parts[0] + escapeText(str('cwmp:ID', header.id)) + parts[1];
}

/** Build one envelope around one message. Throws CwmpBuildError for a value the schema does not allow. */
export function buildCwmp(message: CwmpMessage, header: EnvelopeHeader): string {
  return fixedAnswer(message, header) ?? buildEnvelope(message, header);
}

/** The builder's own envelope, bypassing the fixed answers: soap-build.test.ts compares the two. */
export const buildEnvelopeForTest = (message: CwmpMessage, header: EnvelopeHeader): string => buildEnvelope(message, header);

function buildEnvelope(message: CwmpMessage, header: EnvelopeHeader): string {
  const headerNode: { [key: string]: XmlNode } = {};
  const mu = { 'soap-env:mustUnderstand': '1' };
  if (header.id !== undefined) headerNode['cwmp:ID'] = { $: mu, _: str('cwmp:ID', header.id) };
  if (header.holdRequests !== undefined) {
    headerNode['cwmp:HoldRequests'] = { $: mu, _: header.holdRequests ? '1' : '0' };
  }
  if (header.noMoreRequests !== undefined) headerNode['cwmp:NoMoreRequests'] = header.noMoreRequests ? '1' : '0';

  const [name, content] = rpcNode(message);
  const envelope: { [key: string]: XmlNode } = { $: envelopeAttrs(header.ns) };
  if (Object.keys(headerNode).length > 0) envelope['soap-env:Header'] = headerNode;
  envelope['soap-env:Body'] = { [name]: content };
  try {
    return BUILDER.buildObject({ 'soap-env:Envelope': envelope });
  } catch {
    // The pre-checks in rpc-build make this unreachable; the library's own message would quote the value.
    throw new CwmpBuildError('invalid-value', name, `could not serialise ${name}`);
  }
}

/** The header of a response to `request`: same namespace, same cwmp:ID (TR-069 §A.4.1.1). */
export function replyHeader(request: ParsedCwmp & { kind: 'Message' }): EnvelopeHeader {
  return request.header.id !== undefined ? { ns: request.ns, id: request.header.id } : { ns: request.ns };
}

/** ACS fault codes (TR-069 Table A.5 / cwmp xsd ACSFaultCodeType) with their SOAP faultcode. */
export const ACS_FAULTS = {
  8000: { faultcode: 'Server', text: 'Method not supported' },
  8001: { faultcode: 'Server', text: 'Request denied' },
  8002: { faultcode: 'Server', text: 'Internal error' },
  8003: { faultcode: 'Client', text: 'Invalid arguments' },
  8004: { faultcode: 'Server', text: 'Resources exceeded' },
  8005: { faultcode: 'Server', text: 'Retry request' },
} as const;
export type AcsFaultCode = keyof typeof ACS_FAULTS;

/** A SOAP Fault from the ACS to the CPE, e.g. acsFault(8000) for a method the ACS does not implement. */
export function acsFault(code: AcsFaultCode, faultString?: string): FaultMessage {
  const f = ACS_FAULTS[code];
  return {
    kind: 'Fault',
    faultcode: f.faultcode,
    faultstring: 'CWMP fault',
    cwmp: { faultCode: code, faultString: faultString ?? f.text },
  };
}
