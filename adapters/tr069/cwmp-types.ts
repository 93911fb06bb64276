// CWMP (TR-069) message model shared by the SOAP parser and builder. Plain data only: the codec turns
// these into SOAP 1.1 envelopes and back, the session logic (elsewhere) decides what to send.
// Field names follow the BBF cwmp-1-x.xsd element names, camel-cased.

import { ApsError } from '../../src/adapter-api.ts';

export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP_ENC_NS = 'http://schemas.xmlsoap.org/soap/encoding/';
export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

// The CWMP namespaces in use. GenieACS maps 1-0..1-3 (protocols.md §(d) table); cwmp-1-4 is the namespace
// of the TR-069 Amendment 6 schema and is emitted by real stacks, so it is accepted too. The ACS always
// answers in the namespace the CPE used.
export const CWMP_NAMESPACES = [
  'urn:dslforum-org:cwmp-1-0',
  'urn:dslforum-org:cwmp-1-1',
  'urn:dslforum-org:cwmp-1-2',
  'urn:dslforum-org:cwmp-1-3',
  'urn:dslforum-org:cwmp-1-4',
] as const;
export type CwmpNamespace = (typeof CWMP_NAMESPACES)[number];

export function isCwmpNamespace(uri: string): uri is CwmpNamespace {
  return (CWMP_NAMESPACES as readonly string[]).includes(uri);
}

/** SOAP header elements defined by TR-069 §A.4.1. */
export interface CwmpHeader {
  /** cwmp:ID, raw text; the ACS echoes it verbatim. */
  id?: string;
  /** soap:mustUnderstand on cwmp:ID was "1"/"true". */
  idMustUnderstand?: boolean;
  holdRequests?: boolean;
  /** Deprecated since CWMP 1.1 but still sent by old CPEs. */
  noMoreRequests?: boolean;
  /** cwmp:sessionTimeout (CWMP 1.3+), seconds. */
  sessionTimeout?: number;
}

export interface DeviceIdStruct {
  manufacturer: string;
  /** Six hex digits kept as text: a leading zero ("001122") is significant. */
  oui: string;
  productClass: string;
  serialNumber: string;
}

export interface EventStruct {
  /** Any code, standard ("1 BOOT"), method ("M Download"), vendor ("X 001122 …") or non-standard. */
  eventCode: string;
  commandKey: string;
}

export interface ParameterValue {
  name: string;
  value: string;
  /** xsi:type as written (e.g. "xsd:string"); "xsd:string" when the CPE omitted it. */
  type: string;
}

export interface FaultStruct {
  faultCode: number;
  faultString: string;
}

export interface SetParameterValuesFault extends FaultStruct {
  parameterName: string;
}

/** Arguments of the Download RPC (TR-069 §A.3.2.8), in schema order. */
export interface DownloadArgs {
  commandKey: string;
  fileType: string;
  url: string;
  username: string;
  password: string;
  fileSize: number;
  targetFileName: string;
  delaySeconds: number;
  successUrl: string;
  failureUrl: string;
}

export interface InformMessage {
  kind: 'Inform';
  deviceId: DeviceIdStruct;
  events: EventStruct[];
  maxEnvelopes: number;
  /** dateTime text as sent; the unknown time is "0001-01-01T00:00:00Z". */
  currentTime: string;
  retryCount: number;
  /** In document order. */
  parameterList: ParameterValue[];
}

export interface DownloadResponseMessage {
  kind: 'DownloadResponse';
  /** 0 = downloaded and applied, 1 = not yet (a TransferComplete follows). */
  status: 0 | 1;
  startTime: string;
  completeTime: string;
}

export interface TransferCompleteMessage {
  kind: 'TransferComplete';
  commandKey: string;
  /** faultCode 0 = success, 9010–9019 transfer failures (cwmp xsd). A value, never an exception. */
  fault: FaultStruct;
  startTime: string;
  completeTime: string;
}

/** A SOAP Fault; `cwmp` holds the CWMP Fault from its detail element when present. */
export interface FaultMessage {
  kind: 'Fault';
  /** "Client" or "Server" (SOAP 1.1 §4.4.1), prefix stripped. */
  faultcode: string;
  faultstring: string;
  cwmp?: FaultStruct & { setParameterValuesFaults?: SetParameterValuesFault[] };
}

export type CwmpMessage =
  | InformMessage
  | { kind: 'InformResponse'; maxEnvelopes: number }
  | ({ kind: 'Download' } & DownloadArgs)
  | DownloadResponseMessage
  | TransferCompleteMessage
  | { kind: 'TransferCompleteResponse' }
  | { kind: 'GetRPCMethods' }
  | { kind: 'GetRPCMethodsResponse'; methods: string[] }
  | FaultMessage;

export type CwmpKind = CwmpMessage['kind'];

/** One parsed HTTP body. `Empty` is the CPE's empty POST ("no more requests", TR-069 §3.7.2.4). */
export type ParsedCwmp =
  { kind: 'Empty'; ns: null; header: CwmpHeader } | { kind: 'Message'; ns: CwmpNamespace; header: CwmpHeader; message: CwmpMessage };

export type CwmpParseErrorCode =
  | 'too-large'
  | 'unsupported-encoding'
  | 'malformed-xml'
  | 'forbidden-dtd'
  | 'too-deep'
  | 'too-complex'
  | 'not-soap'
  | 'unknown-namespace'
  | 'unknown-method'
  | 'invalid-message';

/**
 * Why a body could not be understood. Carries what the ACS needs to answer with a SOAP Fault in the
 * CPE's namespace (ns, id, method), never the offending values (they may hold secrets).
 */
export class CwmpParseError extends ApsError {
  readonly reason: CwmpParseErrorCode;
  readonly ns?: CwmpNamespace;
  readonly id?: string;
  readonly method?: string;
  constructor(reason: CwmpParseErrorCode, message: string, context: { ns?: CwmpNamespace; id?: string; method?: string } = {}) {
    super('bad_device_input', message);
    this.name = 'CwmpParseError';
    this.reason = reason;
    this.ns = context.ns;
    this.id = context.id;
    this.method = context.method;
  }
}

export type CwmpBuildErrorCode = 'too-long' | 'invalid-value' | 'invalid-char';

/** A message the codec refuses to emit. Names the field, never its value. */
export class CwmpBuildError extends ApsError {
  readonly reason: CwmpBuildErrorCode;
  readonly field: string;
  constructor(reason: CwmpBuildErrorCode, field: string, message: string) {
    super('render_failed', message);
    this.name = 'CwmpBuildError';
    this.reason = reason;
    this.field = field;
  }
}
